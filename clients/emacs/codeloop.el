;;; codeloop.el --- Coding-agent sessions from codeloop, through eglot  -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "29.1") (eglot "1.9"))
;; Keywords: tools, languages
;; URL: https://github.com/codeloop/codeloop

;;; Commentary:

;; codeloop is a language server that runs a coding agent.  Stock eglot already gets its code actions
;; ("codeloop: Fix this diagnostic", "Run task in comment", "Apply proposal"...).  This package adds what
;; stock LSP cannot: `codeloop-task' (a free-text prompt on the region or point), `codeloop-sessions',
;; `codeloop-review' (the proposal's diff, with per-file apply and reject), `codeloop-transcript' (what a
;; session did: plan, tool calls and results, test runs, tokens, cost), `codeloop-steer', `codeloop-pause',
;; `codeloop-resume' and a mode-line status.
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
  "Session id -> (STATE . TIME it ended or nil), from codeloop/sessionUpdate.")

(defconst codeloop--ended-states '("applied" "finished" "rejected" "cancelled" "failed")
  "States in which a session has ended.")

(defconst codeloop--ended-shown-seconds 30
  "Seconds an ended session stays in the mode line.
A failure must be seen, but not shown forever.")

(defvar codeloop-mode-line '(:eval (codeloop-status))
  "Mode-line construct showing running codeloop sessions.")
(put 'codeloop-mode-line 'risky-local-variable t)

(defun codeloop-status ()
  "A short string with the sessions running, waiting, or recently ended."
  (let (parts)
    (maphash (lambda (id entry)
               (when (or (null (cdr entry)) (< (float-time (time-since (cdr entry))) codeloop--ended-shown-seconds))
                 (push (format "%s:%s" id (car entry)) parts)))
             codeloop--sessions)
    (if parts (concat " codeloop[" (string-join (sort parts #'string<) " ") "]") "")))

(defun codeloop--track (id state)
  "Remember that session ID is in STATE (and when it ended)."
  (let ((ended (member state codeloop--ended-states)))
    (puthash id (cons state (and ended (current-time))) codeloop--sessions)
    (when ended
      (run-at-time (1+ codeloop--ended-shown-seconds) nil (lambda () (force-mode-line-update t))))
    (force-mode-line-update t)))

(cl-defmethod eglot-handle-notification
  (_server (_method (eql codeloop/sessionUpdate)) &key sessionId state event &allow-other-keys)
  "Track session SESSIONID in STATE; tell the user about EVENT when needed."
  (codeloop--track sessionId state)
  (let ((data (plist-get event :data)))
    (pcase state
      ("awaitingApproval"
       (when (equal (plist-get event :type) "proposal")
         (let ((caveat (plist-get data :caveat)))
           (message "codeloop: proposal ready for %s%s: M-x codeloop-review" sessionId
                    (if (stringp caveat) (format " (%s)" caveat) "")))
         (codeloop--refresh-review sessionId)))
      ("awaitingPlanApproval" (message "codeloop: plan ready for %s: M-x codeloop-sessions to read, approve or reject it" sessionId))
      ("finished" (message "codeloop: session %s finished without changes%s" sessionId
                           (if (equal (plist-get data :note) "explained") " (the explanation opens as a document)" "")))
      ("failed" (message "codeloop: session %s failed: %s" sessionId (or (plist-get data :message) "no reason given"))))))

(cl-defmethod eglot-handle-notification (_server (_method (eql codeloop/indexUpdate)) &rest _)
  "The index changed; nothing to show."
  nil)

(defun codeloop--uri (file)
  "FILE as a URI, with the eglot of this Emacs (1.16 renamed the function)."
  (if (fboundp 'eglot-path-to-uri)
      (eglot-path-to-uri file)
    (with-no-warnings (eglot--path-to-uri file))))

(defvar-local codeloop--review-server nil
  "The eglot server a review buffer talks to.")

(defun codeloop--server ()
  "The eglot server of this buffer (or of the review it shows).
Without one, an error saying how to start it."
  (or (eglot-current-server) codeloop--review-server (user-error "No codeloop server here: M-x eglot first")))

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
    ;; Updates may have arrived before this answer: keep their state.
    (unless (gethash id codeloop--sessions) (codeloop--track id "planning"))
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
         (state (plist-get (codeloop--request :codeloop/getSession (list :sessionId id)) :state))
         (action (completing-read "action: " (codeloop--session-actions state) nil t)))
    (pcase action
      ("read plan" (codeloop-plan id))
      ("review" (codeloop-review id))
      ("apply" (codeloop-apply id))
      ((or "reject" "reject plan") (codeloop-reject id (read-string "feedback (empty: just reject): ")))
      ("approve plan" (codeloop--request :codeloop/approvePlan (list :sessionId id)))
      ("transcript" (codeloop-transcript id))
      ("steer" (codeloop-steer id (read-string "message for the session: ")))
      ("pause" (codeloop-pause id))
      ("resume" (codeloop-resume id))
      ("cancel" (codeloop--request :codeloop/cancel (list :sessionId id))))))

(defconst codeloop--working-states '("planning" "working" "testing")
  "States in which a session is at work (it can be paused or sent a message).")

(defun codeloop--session-actions (state)
  "What a session in STATE allows."
  (append '("transcript")
          (pcase state
            ("awaitingPlanApproval" '("read plan" "approve plan" "reject plan"))
            ("awaitingApproval" '("review" "apply" "reject"))
            ("interrupted" '("resume")))
          (when (member state codeloop--working-states) '("steer" "pause"))
          (unless (member state codeloop--ended-states) '("cancel"))))

(defvar-local codeloop--transcript-session nil
  "Session id shown in a transcript buffer.")

(defvar codeloop-transcript-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "g") #'codeloop-transcript-refresh)
    (define-key map (kbd "q") #'quit-window)
    map)
  "Keys of `codeloop-transcript-mode'.")

(define-derived-mode codeloop-transcript-mode special-mode "codeloop-transcript"
  "A codeloop session's transcript: g shows it as it stands now, q closes.")

(defun codeloop-transcript-refresh ()
  "Show this buffer's session transcript as it stands now."
  (interactive)
  (let ((text (plist-get (jsonrpc-request codeloop--review-server :codeloop/sessionTranscript
                                          (list :sessionId codeloop--transcript-session))
                         :text))
        (inhibit-read-only t))
    (erase-buffer)
    (insert text)
    (goto-char (point-min))))

;;;###autoload
(defun codeloop-transcript (&optional id)
  "Show what session ID (asked for when nil) did.
The text `codeloop sessions show' prints: the task, state, tokens and
cost, the plan, each tool call and its result, test runs, the proposal."
  (interactive)
  (let* ((server (codeloop--server))
         (id (or id (codeloop--read-session "transcript of session: ")))
         (buffer (get-buffer-create (format "*codeloop transcript %s*" id))))
    (with-current-buffer buffer
      (codeloop-transcript-mode)
      (setq codeloop--transcript-session id
            codeloop--review-server server)
      (codeloop-transcript-refresh))
    (pop-to-buffer buffer)
    buffer))

;;;###autoload
(defun codeloop-steer (id message)
  "Send MESSAGE to session ID at work: its model reads it at its next turn."
  (interactive (list (codeloop--read-session "steer session: " (cons "awaitingPlanApproval" codeloop--working-states))
                     (read-string "message for the session: ")))
  (codeloop--request :codeloop/steer (list :sessionId id :message message))
  (message "codeloop: sent to %s: the model reads it at its next turn" id))

;;;###autoload
(defun codeloop-pause (id)
  "Pause session ID at its next step; `codeloop-resume' goes on from there."
  (interactive (list (codeloop--read-session "pause session: " codeloop--working-states)))
  (codeloop--request :codeloop/pause (list :sessionId id))
  (message "codeloop: session %s pauses at its next step; M-x codeloop-resume goes on" id))

;;;###autoload
(defun codeloop-resume (id)
  "Go on with the interrupted session ID from its last step."
  (interactive (list (codeloop--read-session "resume session: " '("interrupted"))))
  (codeloop--request :codeloop/resume (list :sessionId id))
  (message "codeloop: resumed session %s" id))

(defun codeloop-plan (id)
  "Show the plan of session ID in a buffer."
  (let* ((session (codeloop--request :codeloop/getSession (list :sessionId id)))
         (plan (plist-get session :plan)))
    (unless (stringp plan) (user-error "Session %s has no plan yet" id))
    (with-current-buffer (get-buffer-create (format "*codeloop plan %s*" id))
      (let ((inhibit-read-only t))
        (erase-buffer)
        (insert (format "# codeloop plan: %s\n# M-x codeloop-sessions to approve or reject it\n\n%s\n" (plist-get session :prompt) plan)))
      (special-mode)
      (pop-to-buffer (current-buffer)))))

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
  "Reject the plan or proposal of session ID.
Non-empty FEEDBACK sends it back to work."
  (let ((with-feedback (and feedback (not (string-empty-p feedback)))))
    (codeloop--request :codeloop/reject
                       (if with-feedback (list :sessionId id :feedback feedback) (list :sessionId id)))
    (message (if with-feedback "codeloop: sent your feedback to %s: it is working on a revision" "codeloop: rejected %s") id)))

(defvar-local codeloop--review-session nil
  "Session id shown in a review buffer.")
(defun codeloop--review-file-at-point ()
  "The file of the diff hunk at point."
  (save-excursion
    (end-of-line)
    (when (re-search-backward "^\\+\\+\\+ b/\\(.*\\)$" nil t) (match-string-no-properties 1))))

(defun codeloop-review-apply-file ()
  "Apply the file at point."
  (interactive)
  (let ((file (codeloop--review-file-at-point)) (id codeloop--review-session) (server codeloop--review-server))
    (unless file (user-error "No file at point: move to a file's diff (A applies the whole proposal)"))
    (jsonrpc-request server :codeloop/applyProposal (list :sessionId id :files (vector file)))
    (message "codeloop: applied %s" file)))

(defun codeloop-review-apply-all ()
  "Apply the whole proposal."
  (interactive)
  (jsonrpc-request codeloop--review-server :codeloop/applyProposal (list :sessionId codeloop--review-session))
  (message "codeloop: applied the proposal"))

(defun codeloop-review-reject ()
  "Reject the proposal, asking for feedback.
With feedback the buffer shows the revision when it comes."
  (interactive)
  (let ((feedback (read-string "feedback (empty: just reject): "))
        (id codeloop--review-session))
    (jsonrpc-request codeloop--review-server :codeloop/reject
                     (if (string-empty-p feedback) (list :sessionId id) (list :sessionId id :feedback feedback)))
    (if (string-empty-p feedback)
        (progn (message "codeloop: rejected %s" id) (quit-window))
      (message "codeloop: sent your feedback to %s: this buffer shows the revision when it comes" id))))

(defvar codeloop-review-mode-map
  (let ((map (make-sparse-keymap)))
    (define-key map (kbd "a") #'codeloop-review-apply-file)
    (define-key map (kbd "A") #'codeloop-review-apply-all)
    (define-key map (kbd "r") #'codeloop-review-reject)
    (define-key map (kbd "q") #'quit-window)
    map)
  "Keys of `codeloop-review-mode'.")

(define-derived-mode codeloop-review-mode diff-mode "codeloop-review"
  "A codeloop proposal: a applies the file at point, A applies all, r rejects."
  (setq buffer-read-only t)
  ;; diff-mode gives a buffer that is already read-only its own short keys (a minor-mode map, which beats
  ;; this mode's map: A would ask for a file to patch); the review keys must win, every time it is shown.
  (setq diff-mode-read-only nil))

(defun codeloop--review-text (session)
  "The review buffer's text for SESSION: its verdict and keys, then the diff."
  (let ((verdict (plist-get session :verdict)))
    (concat (format "# codeloop proposal: %s\n" (plist-get session :prompt))
            (if (listp verdict)
                (concat (format "# verdict: %s\n" (plist-get verdict :text))
                        (let ((failure (plist-get verdict :lastFailure)))
                          (if (stringp failure)
                              (concat "# last failure:\n"
                                      (mapconcat (lambda (line) (concat "#   " line "\n")) (split-string failure "\n") ""))
                            "")))
              "")
            "# a: apply the file at point · A: apply all · r: reject (asks for feedback) · q: close\n"
            (plist-get session :diff))))

(defun codeloop--refresh-review (id)
  "Show session ID's current proposal in its review buffer, if one is open."
  (let ((buffer (get-buffer (format "*codeloop %s*" id))))
    (when (buffer-live-p buffer)
      (with-current-buffer buffer
        (let* ((session (jsonrpc-request codeloop--review-server :codeloop/getSession (list :sessionId id)))
               (inhibit-read-only t))
          (when (stringp (plist-get session :diff))
            (erase-buffer)
            (insert (codeloop--review-text session))
            (goto-char (point-min))))))))

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
        (let ((inhibit-read-only t)) (erase-buffer) (insert (codeloop--review-text session)))
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
  ;; A mode-line list whose first element is a symbol is a conditional (SYMBOL THEN ELSE), so a
  ;; `global-mode-string' of just (codeloop-mode-line) shows nothing, or *invalid*: start it with "".
  (unless (member 'codeloop-mode-line global-mode-string)
    (setq global-mode-string (append (or global-mode-string '("")) '(codeloop-mode-line)))))

(provide 'codeloop)
;;; codeloop.el ends here
