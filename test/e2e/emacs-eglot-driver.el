;;; emacs-eglot-driver.el --- drives stock Emacs + eglot through codeloop's flow -*- lexical-binding: t; -*-
;; Open a file, pick "Run task in comment", wait for the proposal, pick "Apply proposal", save.
;; Inputs from the environment; the outcome is written as JSON to E2E_OUT.
(package-initialize)
(require 'eglot)
(require 'json)
(setq eglot-confirm-server-initiated-edits nil)
(defvar e2e-states nil)
(defvar e2e-out (getenv "E2E_OUT"))

(cl-defmethod eglot-handle-notification (_server (_method (eql codeloop/sessionUpdate)) &key state &allow-other-keys)
  (push state e2e-states))
(cl-defmethod eglot-handle-notification (_server (_method (eql codeloop/indexUpdate)) &rest _) nil)

(defun e2e-finish (result)
  (with-temp-file e2e-out (insert (json-encode result)))
  (kill-emacs 0))

(defun e2e-wait (predicate what)
  (let ((deadline (+ (float-time) 30)))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall predicate) (error "timed out waiting for %s (states %S)" what e2e-states))))

(condition-case err
    (let* ((file (getenv "E2E_FILE")))
      (add-to-list 'eglot-server-programs
                   `(js-mode . (,(getenv "E2E_NODE") ,(getenv "E2E_CLI") "lsp" "--standalone")))
      (find-file file)
      (js-mode)
      (apply #'eglot (eglot--guess-contact))
      (e2e-wait (lambda () (eglot-current-server)) "the server")
      (let* ((server (eglot-current-server))
             (actions (lambda ()
                        (append (jsonrpc-request server :textDocument/codeAction
                                                 (list :textDocument (eglot--TextDocumentIdentifier)
                                                       :range (list :start (list :line 0 :character 0) :end (list :line 0 :character 0))
                                                       :context (list :diagnostics [])))
                                nil)))
             (pick (lambda (prefix)
                     (or (seq-find (lambda (a) (string-prefix-p prefix (plist-get a :title))) (funcall actions))
                         (error "no code action starting with %s" prefix))))
             (run (lambda (action)
                    (let ((command (plist-get action :command)))
                      (jsonrpc-request server :workspace/executeCommand
                                       (list :command (plist-get command :command) :arguments (plist-get command :arguments))))))
             (task (funcall pick "codeloop: Run task in comment")))
        (funcall run task)
        (e2e-wait (lambda () (member "awaitingApproval" e2e-states)) "the proposal")
        (let* ((apply-action (funcall pick "codeloop: Apply proposal"))
               (applied (funcall run apply-action)))
          (e2e-wait (lambda () (buffer-modified-p)) "the edit")
          ;; The proposal also creates a file: eglot opened it as a buffer; save them all, as a user would.
          (save-some-buffers t)
          ;; An explanation ends as "finished" and opens as a document, never "applied".
          (jsonrpc-request server :workspace/executeCommand
                           (list :command "codeloop.startTask"
                                 :arguments (vector (list :prompt "explain add" :kind "explain" :uri (eglot--path-to-uri file)))))
          (e2e-wait (lambda () (member "finished" e2e-states)) "the explanation")
          (e2e-wait (lambda () (seq-find (lambda (b) (string-match-p "explanations/.*\\.md\\'" (or (buffer-file-name b) ""))) (buffer-list)))
                    "the explanation document")
          (e2e-finish (list :status "ok" :task (plist-get task :title) :apply (plist-get apply-action :title)
                            :applied (plist-get applied :applied) :states (vconcat (reverse e2e-states)))))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
