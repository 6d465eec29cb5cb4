;;; e2e-common.el --- shared by the Emacs end-to-end drivers -*- lexical-binding: t; -*-
;; Loaded by each driver with (load (expand-file-name "e2e-common.el" (file-name-directory load-file-name))).
;; A driver writes its outcome as JSON to E2E_OUT and quits; waits are bounded so a stuck flow fails, never hangs.
(require 'eglot)
(require 'json)
(require 'seq)

;; jsonrpc-request gives up after 10 s by default: too short for a request with both cores busy (CI).
(setq jsonrpc-default-request-timeout 60)

(defvar e2e-wait-context nil
  "A function returning what to add to a timeout's message (e.g. the states seen so far), or nil.")

(defun e2e-finish (result)
  "Writes RESULT (a plist) as JSON to E2E_OUT and quits Emacs."
  (with-temp-file (getenv "E2E_OUT") (insert (json-encode result)))
  (kill-emacs 0))

(defun e2e-wait (predicate what &optional seconds)
  "Polls PREDICATE until it is non-nil, for at most SECONDS (40 by default); signals an error naming WHAT."
  (let ((deadline (+ (float-time) (or seconds 40))))
    (while (and (not (funcall predicate)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (unless (funcall predicate)
      (error "timed out waiting for %s%s" what (if e2e-wait-context (format " (%S)" (funcall e2e-wait-context)) "")))))

(defun e2e-code-actions (server)
  "The code actions SERVER offers at the start of the current buffer, as a list of plists."
  (append (jsonrpc-request server :textDocument/codeAction
                           (list :textDocument (eglot--TextDocumentIdentifier)
                                 :range (list :start (list :line 0 :character 0) :end (list :line 0 :character 0))
                                 :context (list :diagnostics [])))
          nil))

(defun e2e-find-action (server prefix)
  "The first code action of SERVER whose title starts with PREFIX, or nil."
  (seq-find (lambda (a) (string-prefix-p prefix (plist-get a :title))) (e2e-code-actions server)))

(defun e2e-pick-action (server prefix)
  "Like `e2e-find-action', but signals an error when there is none."
  (or (e2e-find-action server prefix) (error "no code action starting with %s" prefix)))

(defun e2e-run-action (server action)
  "Runs ACTION's command on SERVER through workspace/executeCommand and returns its result."
  (let ((command (plist-get action :command)))
    (jsonrpc-request server :workspace/executeCommand
                     (list :command (plist-get command :command) :arguments (plist-get command :arguments)))))

(defun e2e-open-with-eglot (&optional file)
  "Visits FILE (E2E_FILE by default) in `js-mode', starts eglot there and waits for its server."
  (find-file (or file (getenv "E2E_FILE")))
  (js-mode)
  (apply #'eglot (eglot--guess-contact))
  (e2e-wait (lambda () (eglot-current-server)) "the server"))

(defvar e2e-states nil "Session states codeloop/sessionUpdate announced, newest first (see `e2e-setup-stock-eglot').")

(defun e2e-setup-stock-eglot ()
  "Sets stock eglot up to run this checkout's `codeloop lsp --standalone' for `js-mode', applying the server's
edits without asking, and collects announced session states in `e2e-states' (shown when a wait times out)."
  (setq eglot-confirm-server-initiated-edits nil)
  (setq e2e-wait-context (lambda () (list :states e2e-states)))
  (cl-defmethod eglot-handle-notification (_server (_method (eql codeloop/sessionUpdate)) &key state &allow-other-keys)
    (push state e2e-states))
  (cl-defmethod eglot-handle-notification (_server (_method (eql codeloop/indexUpdate)) &rest _) nil)
  (add-to-list 'eglot-server-programs
               `(js-mode . (,(getenv "E2E_NODE") ,(getenv "E2E_CLI") "lsp" "--standalone"))))

(defun e2e-setup-codeloop-el (&rest lsp-args)
  "Loads clients/emacs/codeloop.el from E2E_PLUGIN and sets it up to run `codeloop lsp LSP-ARGS…' from this checkout."
  (add-to-list 'load-path (getenv "E2E_PLUGIN"))
  (require 'codeloop)
  (setq codeloop-command (append (list (getenv "E2E_NODE") (getenv "E2E_CLI") "lsp") lsp-args))
  (codeloop-setup))
