-- Drives stock Neovim's workspace-folder commands against codeloop: add folder B, remove folder A, then asks
-- codeloop which folders it serves and what workspace/symbol finds (B's symbol, not A's).
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('E2E_FILE')))
  local client_id = vim.lsp.start_client({
    name = 'codeloop',
    cmd = { os.getenv('E2E_NODE'), os.getenv('E2E_CLI'), 'lsp', '--standalone' },
    root_dir = os.getenv('E2E_ROOT'),
    handlers = { ['codeloop/sessionUpdate'] = function() end, ['codeloop/indexUpdate'] = function() end },
  })
  vim.lsp.buf_attach_client(0, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(20000, function() return client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil end), 'server did not initialize')
  local function request(method, params)
    local done, result = false, nil
    client.request(method, params, function(e, r) done = true; result = e or r end, 0)
    assert(vim.wait(20000, function() return done end), method .. ' did not answer')
    return result
  end
  vim.lsp.buf.add_workspace_folder(os.getenv('E2E_OTHER'))
  vim.lsp.buf.remove_workspace_folder(os.getenv('E2E_ROOT'))
  assert(vim.wait(25000, function()
    local status = request('codeloop/status', vim.empty_dict())
    local folders = status.clients[1].workspaces
    -- Folder A stays listed (not indexing) while it closes: wait for B's own entry, wherever it sits.
    local b = vim.tbl_filter(function(w) return w.root == os.getenv('E2E_OTHER') end, status.workspaces)[1]
    return #folders == 1 and folders[1] == os.getenv('E2E_OTHER') and b ~= nil and not b.indexing
  end), 'codeloop did not follow the folder change')
  out.workspaces = request('codeloop/status', {}).clients[1].workspaces
  out.symbols = vim.tbl_map(function(s) return s.name end, request('workspace/symbol', { query = 'onlyIn' }))
end)
