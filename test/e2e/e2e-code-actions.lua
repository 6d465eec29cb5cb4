-- Shared by the Neovim drivers: code actions of the current buffer through a given LSP client, as a user picks them.
-- Returns a function(client) giving { actions(), find(prefix), pick(prefix), execute(action) }; every wait is bounded.
return function(client)
  local M = {}
  --- Every code action offered at the buffer's first line (all attached servers), as a list.
  function M.actions()
    local params = {
      textDocument = vim.lsp.util.make_text_document_params(),
      range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 0 } },
      context = { diagnostics = {} },
    }
    local list = {}
    for _, response in pairs(vim.lsp.buf_request_sync(0, 'textDocument/codeAction', params, 10000) or {}) do
      for _, action in ipairs(response.result or {}) do table.insert(list, action) end
    end
    return list
  end
  --- The first action whose title starts with prefix, or nil.
  function M.find(prefix)
    for _, action in ipairs(M.actions()) do
      if vim.startswith(action.title, prefix) then return action end
    end
  end
  --- Like find, but an error when there is none.
  function M.pick(prefix)
    return M.find(prefix) or error('no code action starting with ' .. prefix)
  end
  --- Runs the action's command (workspace/executeCommand) and returns the result or the error.
  function M.execute(action)
    local done, result = false, nil
    client.request('workspace/executeCommand', action.command, function(e, r) done = true; result = e or r end, 0)
    assert(vim.wait(20000, function() return done end), 'executeCommand did not answer')
    return result
  end
  return M
end
