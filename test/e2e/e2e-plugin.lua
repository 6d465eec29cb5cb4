-- Shared by the Neovim drivers of the plugin: loads clients/neovim from E2E_PLUGIN, sets it up to run
-- `codeloop lsp …extra_args` from this checkout, opens E2E_FILE and waits (bounded) until the plugin's client is up.
-- Returns the plugin module and the file's buffer.
return function(extra_args)
  vim.opt.runtimepath:prepend(os.getenv('E2E_PLUGIN'))
  local codeloop = require('codeloop')
  local cmd = { os.getenv('E2E_NODE'), os.getenv('E2E_CLI'), 'lsp' }
  vim.list_extend(cmd, extra_args or {})
  codeloop.setup({ cmd = cmd })
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('E2E_FILE')))
  local source = vim.api.nvim_get_current_buf()
  assert(vim.wait(20000, function()
    local client = codeloop.client(source)
    return client ~= nil and client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil
  end), 'the plugin did not start the server')
  return codeloop, source
end
