;;; codeloop.el --- Coding-agent sessions from codeloop, through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "29.1") (eglot "1.9"))
;; Keywords: tools, languages
;; URL: https://github.com/codeloop/codeloop

;;; Commentary:

;; codeloop is a language server that runs a coding agent.  Stock eglot already gets its code actions
;; ("codeloop: Fix this diagnostic", "Run task in comment", "Apply proposal"...).  This package adds what
;; stock LSP cannot: `codeloop-task' (a free-text prompt on the region or point), `codeloop-sessions',
;; `codeloop-review' (the proposal's diff, with per-file apply and reject) and a mode-line status.
;;
;; Setup: (require 'codeloop) (codeloop-setup), then M-x eglot in a project.  eglot runs one server per
;; buffer; to use codeloop next to another language server, use lsp-mode, which runs several.

;;; Code:

(require 'diff-mode)
(require 'eglot)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)

(defgroup codeloop nil
  "Coding-agent sessions from codeloop."
  :group 'tools
  :prefix "codeloop-")

(defcustom codeloop-command '("codeloop" "lsp")
  "Command that starts the codeloop language server."
  :type '(repeat string))

(defcustom codeloop-modes '(prog-mode text-mode)
  "Major modes (and their derived modes) for which eglot uses codeloop."
  :type '(repeat symbol))

(defvar codeloop--sessions (make-hash-table :test #'equal)
  "Session id -> last known state, from codeloop/sessionUpdate.")

(defvar codeloop-mode-line '(:eval (codeloop-status))
  "Mode-line construct showing running codeloop sessions.")
(put 'codeloop-mode-line 'risky-local-variable t)

(defun codeloop-status ()
  "A short string with the sessions that are not finished."
  (let (parts)
    (maphash (lambda (id state)
               (unless (member state '("applied" "rejected" "cancelled" "finished"))
                 (push (format "%s:%s" id state) parts)))
             codeloop--sessions)
    (if parts (concat " codeloop[" (string-join parts " ") "]") "")))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql codeloop/sessionUpdate)) &key sessionId state event &allow-other-keys)
  "Track session SESSIONID in STATE; tell the user about EVENT when needed."
  (puthash sessionId state codeloop--sessions)
  (force-mode-line-update t)
  (pcase state
    ("awaitingApproval"
     (when (equal (plist-get event :type) "proposal")
       (message "codeloop: proposal ready for %s: M-x codeloop-review" sessionId)))
    ("awaitingPlanApproval" (message "codeloop: plan ready for %s: M-x codeloop-sessions" sessionId))
    ("failed" (message "codeloop: session %s failed" sessionId))))

(cl-defmethod eglot-handle-notification (_server (_method (eql codeloop/indexUpdate)) &rest _)
  "The index changed; nothing to show."
  nil)

(defun codeloop--uri (file)
  "FILE as a URI, with the eglot of this Emacs (1.16 renamed the function)."
  (if (fboundp 'eglot-path-to-uri)
      (eglot-path-to-uri file)
    (with-no-warnings (eglot--path-to-uri file))))

(defun codeloop--server ()
  "The eglot server of this buffer, or an error saying how to start one."
  (or (eglot-current-server) (user-error "No codeloop server here: M-x eglot first")))

(defun codeloop--request (method params)
  "Send METHOD with PARAMS to codeloop and return the result."
  (jsonrpc-request (codeloop--server) method params))

;;;###autoload
(defun codeloop-task (prompt)
  "Start a codeloop task with PROMPT on the region, or the current line."
  (interactive (list (read-string "codeloop task: ")))
  (let* ((beg (if (use-region-p) (region-beginning) (line-beginning-position)))
         (end (if (use-region-p) (region-end) (line-end-position)))
         (result (codeloop--request
                  :codeloop/startTask
                  (list :prompt prompt
                        :uri (codeloop--uri (buffer-file-name))
                        :range (list :start (eglot--pos-to-lsp-position beg)
                                     :end (eglot--pos-to-lsp-position end)))))
         (id (plist-get result :sessionId)))
    (puthash id "planning" codeloop--sessions)
    (message "codeloop: started session %s" id)
    id))

(defun codeloop--session-ids ()
  "Session summaries of this workspace."
  (append (plist-get (codeloop--request :codeloop/listSessions nil) :sessions) nil))

(defun codeloop--read-session (prompt &optional states)
  "Read a session id with PROMPT, offering sessions in STATES (all when nil)."
  (let* ((sessions (seq-filter (lambda (s) (or (null states) (member (plist-get s :state) states)))
                               (codeloop--session-ids)))
         (choices (mapcar (lambda (s) (cons (format "%s  %-20s %s" (plist-get s :sessionId) (plist-get s :state) (plist-get s :prompt))
                                            (plist-get s :sessionId)))
                          sessions)))
    (unless choices (user-error "No codeloop session to choose from"))
    (cdr (assoc (completing-read prompt choices nil t) choices))))

;;;###autoload
(defun codeloop-sessions ()
  "Choose a session and what to do with it."
  (interactive)
  (let* ((id (codeloop--read-session "codeloop session: "))
         (action (completing-read "action: " '("review" "apply" "reject" "approve plan" "cancel") nil t)))
    (pcase action
      ("review" (codeloop-review id))
      ("apply" (codeloop-apply id))
      ("reject" (codeloop-reject id (read-string "feedback (empty: just reject): ")))
      ("approve plan" (codeloop--request :codeloop/approvePlan (list :sessionId id)))
      ("cancel" (codeloop--request :codeloop/cancel (list :sessionId id))))))

(defun codeloop-apply (id &optional files)
  "Apply the proposal of session ID (only FILES when given)."
  (let* ((params (if files (list :sessionId id :files (vconcat files)) (list :sessionId id)))
         (result (codeloop--request :codeloop/applyProposal params))
         (conflicts (append (plist-get result :conflicts) nil)))
    (if conflicts
        (message "codeloop: not applied: %s" (string-join conflicts "; "))
      (message "codeloop: applied %s" (if files (string-join files ", ") "the proposal")))
    result))

(defun codeloop-reject (id &optional feedback)
  "Reject the proposal of session ID; non-empty FEEDBACK sends it back to work."
  (codeloop--request :codeloop/reject
                     (if (and feedback (not (string-empty-p feedback)))
                         (list :sessionId id :feedback feedback)
                       (list :sessionId id))))

(defvar-local codeloop--review-session nil
  "Session id shown in a review buffer.")
(defvar-local codeloop--review-server nil
  "The eglot server a review buffer talks to.")

(defun codeloop--review-file-at-point ()
  "The file of the diff hunk at point."
  (save-excursion
    (end-of-line)
    (when (re-search-backward "^\\+\\+\\+ b/\\(.*\\)$" nil t) (match-string-no-properties 1))))

(defun codeloop-review-apply-file ()
  "Apply the file at point."
  (interactive)
  (let ((file (codeloop--review-file-at-point)) (id codeloop--review-session) (server codeloop--review-server))
    (unless file (user-error "No file at point"))
    (jsonrpc-request server :codeloop/applyProposal (list :sessionId id :files (vector file)))
    (message "codeloop: applied %s" file)))

(defun codeloop-review-apply-all ()
  "Apply the whole proposal."
  (interactive)
  (jsonrpc-request codeloop--review-server :codeloop/applyProposal (list :sessionId codeloop--review-session))
  (message "codeloop: applied the proposal"))

(defun codeloop-review-reject ()
  "Reject the proposal, asking for feedback."
  (interactive)
  (let ((feedback (read-string "feedback (empty: just reject): ")))
    (jsonrpc-request codeloop--review-server :codeloop/reject
                     (if (string-empty-p feedback)
                         (list :sessionId codeloop--review-session)
                       (list :sessionId codeloop--review-session :feedback feedback)))
    (quit-window)))

(defvar codeloop-review-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "a") #'codeloop-review-apply-file)
    (define-key map (kbd "A") #'codeloop-review-apply-all)
    (define-key map (kbd "r") #'codeloop-review-reject)
    map)
  "Keys of `codeloop-review-mode'.")

(define-derived-mode codeloop-review-mode diff-mode "codeloop-review"
  "A codeloop proposal: a applies the file at point, A applies all, r rejects."
  (setq buffer-read-only t))

;;;###autoload
(defun codeloop-review (&optional id)
  "Show the proposal of session ID (asked for when nil) as a diff."
  (interactive)
  (let* ((server (codeloop--server))
         (id (or id (codeloop--read-session "review session: " '("awaitingApproval"))))
         (session (jsonrpc-request server :codeloop/getSession (list :sessionId id)))
         (diff (plist-get session :diff)))
    (unless (stringp diff) (user-error "Session %s has no proposal" id))
    (let ((buffer (get-buffer-create (format "*codeloop %s*" id))))
      (with-current-buffer buffer
        (let ((inhibit-read-only t)) (erase-buffer) (insert diff))
        (codeloop-review-mode)
        (setq codeloop--review-session id
              codeloop--review-server server)
        (goto-char (point-min)))
      (pop-to-buffer buffer))))

;;;###autoload
(defun codeloop-setup ()
  "Use codeloop for `codeloop-modes' in eglot; show sessions in the mode line."
  (dolist (mode codeloop-modes)
    (add-to-list 'eglot-server-programs (cons mode codeloop-command)))
  (unless (member 'codeloop-mode-line global-mode-string)
    (setq global-mode-string (append global-mode-string '(codeloop-mode-line)))))

(provide 'codeloop)
;;; codeloop.el ends here
