-- Drives the codeloop Neovim plugin through a session's life: :Codeloop, then :CodeloopSteer and :CodeloopPause
-- while it works, :CodeloopTranscript while it is interrupted, :CodeloopResume, and the transcript again
-- (refreshed with `g`) once the proposal waits. Records what the user is told (vim.notify) and the buffers shown.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  out.messages = {}
  vim.notify = function(message) table.insert(out.messages, message) end
  local codeloop, source = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-plugin.lua')({ '--standalone' })
  vim.cmd('Codeloop make add add')
  local session_id
  local function in_state(state)
    return function()
      for id, s in pairs(codeloop._sessions) do
        if s.state == state then session_id = id; return true end
      end
    end
  end
  assert(vim.wait(30000, in_state('working')), 'the session did not start working')
  vim.cmd('CodeloopSteer keep the arrow function')
  vim.cmd('CodeloopPause')
  assert(vim.wait(30000, in_state('interrupted')), 'the session did not pause')
  vim.cmd('CodeloopTranscript')
  assert(vim.wait(10000, function() return vim.api.nvim_buf_get_name(0):find('%.transcript$') ~= nil end), 'no transcript buffer')
  out.paused_transcript = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  local transcript = vim.api.nvim_get_current_buf()
  vim.cmd('wincmd p')
  vim.cmd('CodeloopResume ' .. session_id)
  assert(vim.wait(30000, in_state('awaitingApproval')), 'no proposal after resuming')
  vim.api.nvim_set_current_win(vim.fn.bufwinid(transcript))
  vim.cmd('normal g')
  assert(vim.wait(10000, function()
    return table.concat(vim.api.nvim_buf_get_lines(transcript, 0, -1, false), '\n'):find('proposal: src/math.js', 1, true) ~= nil
  end), 'g did not show the transcript as it stands now')
  out.final_transcript = vim.api.nvim_buf_get_lines(transcript, 0, -1, false)
  out.session_id = session_id
end)
