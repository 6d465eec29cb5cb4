-- Drives the codeloop Neovim plugin: :Codeloop with a free-text task, then :CodeloopReview and `A` in the diff.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  local codeloop, source = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-plugin.lua')({ '--standalone' })
  vim.cmd('Codeloop make add add')
  assert(vim.wait(10000, function() return codeloop.status() ~= '' end), 'the statusline shows nothing while the session plans')
  out.status_at_start = codeloop.status()
  local session_id
  local function proposal_waiting()
    for id, s in pairs(codeloop._sessions) do if s.state == 'awaitingApproval' then session_id = id; return true end end
  end
  assert(vim.wait(30000, proposal_waiting), 'no proposal')
  vim.cmd('CodeloopReview')
  assert(vim.wait(10000, function() return vim.bo.filetype == 'diff' end), 'no review buffer')
  local review = vim.api.nvim_get_current_buf()
  out.first_review = vim.api.nvim_buf_get_lines(review, 0, -1, false)
  -- Reject the first proposal with feedback: the session goes back to work, proposes again, the review follows.
  codeloop.reject(session_id, 'write it as b + a')
  assert(vim.wait(10000, function() return codeloop._sessions[session_id].state ~= 'awaitingApproval' end), 'the rejection was not taken')
  assert(vim.wait(30000, proposal_waiting), 'no revised proposal')
  assert(vim.wait(10000, function()
    return vim.api.nvim_buf_is_valid(review) and table.concat(vim.api.nvim_buf_get_lines(review, 0, -1, false), '\n'):find('b + a', 1, true) ~= nil
  end), 'the review split kept the stale diff')
  out.status_line = codeloop.status()
  -- Reopening the review reuses its buffer.
  vim.cmd('CodeloopReview')
  assert(vim.wait(10000, function() return vim.api.nvim_get_current_buf() == review end), 'reopening the review did not show it')
  out.review = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  out.windows = #vim.api.nvim_list_wins()
  -- `a` on the header line of a one-file proposal applies that file.
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  vim.cmd('normal a')
  assert(vim.wait(10000, function() return vim.bo[source].modified end), 'the proposal was not applied to the buffer')
  vim.cmd('wall')
  assert(vim.wait(10000, function() return codeloop._sessions[session_id].state == 'applied' end), 'the session was not marked applied')
  out.final_status = codeloop.status()
end)
