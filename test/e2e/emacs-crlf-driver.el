;;; emacs-crlf-driver.el --- stock eglot applies a proposal to a CRLF file it opened after the session -*- lexical-binding: t; -*-
;; The session starts from test.js; src/math.js (CRLF on disk) is opened only once the proposal waits: Emacs holds
;; it with LF breaks, as it holds every CRLF file. Apply through the code action, save; the outcome goes to E2E_OUT.
(package-initialize)
(load (expand-file-name "e2e-common.el" (file-name-directory load-file-name)) nil t)
(e2e-setup-stock-eglot)

(condition-case err
    (progn
      (e2e-open-with-eglot (expand-file-name "test.js" (getenv "E2E_ROOT")))
      (jsonrpc-request (eglot-current-server) :workspace/executeCommand
                       (list :command "codeloop.startTask" :arguments (vector (list :prompt "make add add"))))
      (e2e-wait (lambda () (member "awaitingApproval" e2e-states)) "the proposal")
      (find-file (getenv "E2E_FILE"))
      (js-mode)
      (e2e-wait (lambda () (eglot-current-server)) "eglot on the CRLF file")
      (let* ((coding (symbol-name buffer-file-coding-system))
             (apply-action (e2e-pick-action (eglot-current-server) "codeloop: Apply proposal"))
             (applied (e2e-run-action (eglot-current-server) apply-action)))
        (when (eq (plist-get applied :applied) t)
          (e2e-wait (lambda () (buffer-modified-p)) "the edit")
          (save-buffer))
        (e2e-finish (list :status "ok" :coding coding :applied (plist-get applied :applied)
                          :conflicts (plist-get applied :conflicts)))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
