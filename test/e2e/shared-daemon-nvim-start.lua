-- Neovim half of the shared-daemon test: start a task with the plugin through `codeloop lsp` (the daemon), wait
-- for the proposal, record the session id and quit without applying.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')
run(function(out)
  vim.opt.runtimepath:prepend(os.getenv('E2E_PLUGIN'))
  local codeloop = require('codeloop')
  codeloop.setup({ cmd = { os.getenv('E2E_NODE'), os.getenv('E2E_CLI'), 'lsp' } })
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('E2E_FILE')))
  assert(vim.wait(20000, function()
    local client = codeloop.client(0)
    return client ~= nil and client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil
  end), 'the plugin did not start the server')
  vim.cmd('Codeloop make add add')
  assert(vim.wait(30000, function()
    for id, s in pairs(codeloop._sessions) do
      if s.state == 'awaitingApproval' then out.session = id; return true end
    end
  end), 'no proposal')
end)
