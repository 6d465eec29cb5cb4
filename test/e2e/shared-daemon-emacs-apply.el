;;; shared-daemon-emacs-apply.el --- Emacs half of the shared-daemon test -*- lexical-binding: t; -*-
;; Attach to the same daemon, find the session another editor started, apply its proposal, save.
(package-initialize)
(load (expand-file-name "e2e-common.el" (file-name-directory load-file-name)) nil t)
(setq eglot-confirm-server-initiated-edits nil)
(e2e-setup-codeloop-el)
(condition-case err
    (progn
      (e2e-open-with-eglot)
      (let* ((sessions (codeloop--session-ids))
             (waiting (seq-find (lambda (s) (equal (plist-get s :state) "awaitingApproval")) sessions))
             (id (plist-get waiting :sessionId))
             (result (codeloop-apply id)))
        (e2e-wait (lambda () (buffer-modified-p)) "the edit")
        (save-buffer)
        (e2e-finish (list :status "ok" :session id :sessions (length sessions) :applied (plist-get result :applied)))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
