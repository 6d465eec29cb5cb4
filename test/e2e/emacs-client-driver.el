;;; emacs-client-driver.el --- drives clients/emacs/codeloop.el -*- lexical-binding: t; -*-
;; codeloop-task with a free-text prompt, then codeloop-review and A (apply all), then save.
(package-initialize)
(load (expand-file-name "e2e-common.el" (file-name-directory load-file-name)) nil t)
(setq eglot-confirm-server-initiated-edits nil)
(e2e-setup-codeloop-el "--standalone")


(condition-case err
    (progn
      (e2e-open-with-eglot)
      (let* ((source (current-buffer))
             (id (codeloop-task "make add add"))
             (state (lambda () (car (gethash id codeloop--sessions))))
             (review-buffer (format "*codeloop %s*" id)))
        (e2e-wait (lambda () (equal (funcall state) "awaitingApproval")) "the proposal")
        (codeloop-review id)
        (let ((first-review (buffer-string)))
          ;; Reject with feedback: the session goes back to work, proposes again, and the open review follows.
          (codeloop-reject id "write it as b + a")
          (e2e-wait (lambda () (not (equal (funcall state) "awaitingApproval"))) "the rejection")
          (e2e-wait (lambda () (equal (funcall state) "awaitingApproval")) "the revised proposal")
          (e2e-wait (lambda () (with-current-buffer review-buffer (string-match-p "b \\+ a" (buffer-string)))) "the refreshed review")
          (let ((status (codeloop-status)))
            ;; The second review of the session keeps its keys (diff-mode's read-only map must not take A).
            (codeloop-review id)
            (let ((review (buffer-string))
                  (binding (key-binding (kbd "A"))))
              (codeloop-review-apply-all)
              (with-current-buffer source
                (e2e-wait (lambda () (buffer-modified-p)) "the edit")
                (save-buffer))
              (e2e-wait (lambda () (equal (funcall state) "applied")) "the applied state")
              (e2e-finish (list :status "ok" :modeline status :first-review first-review :review review
                                :binding (symbol-name binding))))))))
  (error (e2e-finish (list :status "error" :error (format "%S" err)))))
