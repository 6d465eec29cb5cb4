-- Neovim half of the shared-daemon test: start a task with the plugin through `codeloop lsp` (the daemon), wait
-- for the proposal, record the session id and quit without applying.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')
run(function(out)
  local codeloop = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-plugin.lua')()
  vim.cmd('Codeloop make add add')
  assert(vim.wait(30000, function()
    for id, s in pairs(codeloop._sessions) do
      if s.state == 'awaitingApproval' then out.session = id; return true end
    end
  end), 'no proposal')
end)
