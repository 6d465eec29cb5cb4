;;; emacs-eglot-driver.el --- drives stock Emacs + eglot through codeloop's flow -*- lexical-binding: t; -*-
;; Open a file, pick "Run task in comment", wait for the proposal, pick "Apply proposal", save.
;; Inputs from the environment; the outcome is written as JSON to E2E_OUT.
(package-initialize)
(load (expand-file-name "e2e-common.el" (file-name-directory load-file-name)) nil t)
(e2e-setup-stock-eglot)

(condition-case err
    (let* ((file (getenv "E2E_FILE")))
      (e2e-open-with-eglot file)
      (let* ((server (eglot-current-server))
             (task (e2e-pick-action server "codeloop: Run task in comment")))
        (e2e-run-action server task)
        (e2e-wait (lambda () (member "awaitingApproval" e2e-states)) "the proposal")
        (let* ((apply-action (e2e-pick-action server "codeloop: Apply proposal"))
               (applied (e2e-run-action server apply-action)))
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
