;;; readme-emacs-driver.el --- codeloop's flow in an Emacs configured only by a README snippet -*- lexical-binding: t; -*-
;; Loaded after the snippet (the user's init file): eglot in the file's buffer must start codeloop; then a
;; comment task, apply, save. The outcome is written as JSON to E2E_OUT.
(load (expand-file-name "e2e-common.el" (file-name-directory load-file-name)) nil t)
(setq eglot-confirm-server-edits nil)


(condition-case err
    (progn
      (e2e-open-with-eglot)
      (let* ((server (eglot-current-server))
             task apply)
        (e2e-wait (lambda () (setq task (e2e-find-action server "codeloop: Run task in comment"))) "the comment task")
        (e2e-run-action server task)
        (e2e-wait (lambda () (setq apply (e2e-find-action server "codeloop: Apply proposal"))) "the proposal")
        (e2e-run-action server apply)
        (e2e-wait (lambda () (buffer-modified-p)) "the edit")
        (save-some-buffers t)
        (e2e-finish (list :status "ok" :server (format "%S" (process-command (jsonrpc--process server)))
                          :task (plist-get task :title) :apply (plist-get apply :title)))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
