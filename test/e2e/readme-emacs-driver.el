;;; readme-emacs-driver.el --- codeloop's flow in an Emacs configured only by a README snippet -*- lexical-binding: t; -*-
;; Loaded after the snippet (the user's init file): eglot in the file's buffer must start codeloop; then a
;; comment task, apply, save. The outcome is written as JSON to E2E_OUT.
(require 'eglot)
(require 'json)
(setq eglot-confirm-server-edits nil)

(defun e2e-finish (result)
  (with-temp-file (getenv "E2E_OUT") (insert (json-encode result)))
  (kill-emacs 0))

(defun e2e-wait (predicate what)
  (let ((deadline (+ (float-time) 40)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.1))
    (unless (funcall predicate) (error "timed out waiting for %s" what))))

(condition-case err
    (progn
      (find-file (getenv "E2E_FILE"))
      (js-mode)
      (apply #'eglot (eglot--guess-contact))
      (e2e-wait (lambda () (eglot-current-server)) "the server")
      (let* ((server (eglot-current-server))
             (find (lambda (prefix)
                     (seq-find (lambda (a) (string-prefix-p prefix (plist-get a :title)))
                               (append (jsonrpc-request server :textDocument/codeAction
                                                        (list :textDocument (eglot--TextDocumentIdentifier)
                                                              :range (list :start (list :line 0 :character 0) :end (list :line 0 :character 0))
                                                              :context (list :diagnostics [])))
                                       nil))))
             (run (lambda (action)
                    (let ((command (plist-get action :command)))
                      (jsonrpc-request server :workspace/executeCommand
                                       (list :command (plist-get command :command) :arguments (plist-get command :arguments))))))
             task apply)
        (e2e-wait (lambda () (setq task (funcall find "codeloop: Run task in comment"))) "the comment task")
        (funcall run task)
        (e2e-wait (lambda () (setq apply (funcall find "codeloop: Apply proposal"))) "the proposal")
        (funcall run apply)
        (e2e-wait (lambda () (buffer-modified-p)) "the edit")
        (save-some-buffers t)
        (e2e-finish (list :status "ok" :server (format "%S" (process-command (jsonrpc--process server)))
                          :task (plist-get task :title) :apply (plist-get apply :title)))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
