;;; emacs-client-driver.el --- drives clients/emacs/codeloop.el -*- lexical-binding: t; -*-
;; codeloop-task with a free-text prompt, then codeloop-review and A (apply all), then save.
(package-initialize)
(add-to-list 'load-path (getenv "E2E_PLUGIN"))
(require 'codeloop)
(require 'json)
(setq eglot-confirm-server-initiated-edits nil)
(setq codeloop-command (list (getenv "E2E_NODE") (getenv "E2E_CLI") "lsp" "--standalone"))
(codeloop-setup)

(defun e2e-finish (result)
  (with-temp-file (getenv "E2E_OUT") (insert (json-encode result)))
  (kill-emacs 0))

(defun e2e-wait (predicate what)
  (let ((deadline (+ (float-time) 30)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall predicate) (error "timed out waiting for %s" what))))

(condition-case err
    (progn
      (find-file (getenv "E2E_FILE"))
      (js-mode)
      (apply #'eglot (eglot--guess-contact))
      (e2e-wait (lambda () (eglot-current-server)) "the server")
      (let* ((source (current-buffer))
             (id (codeloop-task "make add add")))
        (e2e-wait (lambda () (equal (gethash id codeloop--sessions) "awaitingApproval")) "the proposal")
        ;; Reject with feedback: the session goes back to work and proposes again.
        (codeloop-reject id "write it as b + a")
        (e2e-wait (lambda () (not (equal (gethash id codeloop--sessions) "awaitingApproval"))) "the rejection")
        (e2e-wait (lambda () (equal (gethash id codeloop--sessions) "awaitingApproval")) "the revised proposal")
        (let ((status (codeloop-status)))
          (codeloop-review id)
          (let ((review (buffer-string)))
            (codeloop-review-apply-all)
            (with-current-buffer source
              (e2e-wait (lambda () (buffer-modified-p)) "the edit")
              (save-buffer))
            (e2e-finish (list :status "ok" :modeline status :review review))))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
