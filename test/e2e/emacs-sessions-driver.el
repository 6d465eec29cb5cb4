;;; emacs-sessions-driver.el --- drives codeloop.el through a session's life -*- lexical-binding: t; -*-
;; codeloop-task, then codeloop-steer and codeloop-pause while it works, codeloop-transcript while it is
;; interrupted, codeloop-resume, and the transcript again (g) once the proposal waits; records the echo area.
(package-initialize)
(load (expand-file-name "e2e-common.el" (file-name-directory load-file-name)) nil t)
(setq eglot-confirm-server-initiated-edits nil)
(e2e-setup-codeloop-el "--standalone")

(defvar e2e-messages nil "What the user was told, newest first.")
(advice-add 'message :after (lambda (format &rest args) (when format (push (apply #'format-message format args) e2e-messages))))

(condition-case err
    (progn
      (e2e-open-with-eglot)
      (let* ((id (codeloop-task "make add add"))
             (state (lambda () (car (gethash id codeloop--sessions)))))
        (e2e-wait (lambda () (equal (funcall state) "working")) "the session at work")
        (codeloop-steer id "keep the arrow function")
        (codeloop-pause id)
        (e2e-wait (lambda () (equal (funcall state) "interrupted")) "the pause")
        (let* ((transcript (codeloop-transcript id))
               (paused (with-current-buffer transcript (buffer-string))))
          (codeloop-resume id)
          (e2e-wait (lambda () (equal (funcall state) "awaitingApproval")) "the proposal after resuming")
          (with-current-buffer transcript
            (codeloop-transcript-refresh)
            (e2e-finish (list :status "ok" :paused paused :final (buffer-string)
                              :buffer (buffer-name) :mode (symbol-name major-mode)
                              :messages (vconcat (reverse e2e-messages))))))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
