-- Drives stock Neovim (0.7+, no plugin) through codeloop's whole flow as a user would with the built-in LSP client:
-- open a file, pick the "Run task in comment" code action, wait for the proposal, pick "Apply proposal", save.
-- Inputs come from the environment; the outcome is written as JSON to E2E_OUT.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('E2E_FILE')))
  local states = {}
  local client_id = vim.lsp.start_client({
    name = 'codeloop',
    cmd = { os.getenv('E2E_NODE'), os.getenv('E2E_CLI'), 'lsp', '--standalone' },
    root_dir = os.getenv('E2E_ROOT'),
    handlers = {
      ['codeloop/sessionUpdate'] = function(_, params) table.insert(states, params.state) end,
      ['codeloop/indexUpdate'] = function() end,
    },
  })
  vim.lsp.buf_attach_client(0, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(20000, function() return client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil end), 'server did not initialize')

  local function actions()
    local params = {
      textDocument = vim.lsp.util.make_text_document_params(),
      range = { start = { line = 0, character = 0 }, ['end'] = { line = 0, character = 0 } },
      context = { diagnostics = {} },
    }
    local responses = vim.lsp.buf_request_sync(0, 'textDocument/codeAction', params, 10000) or {}
    local list = {}
    for _, response in pairs(responses) do
      for _, action in ipairs(response.result or {}) do table.insert(list, action) end
    end
    return list
  end
  local function pick(prefix)
    for _, action in ipairs(actions()) do
      if vim.startswith(action.title, prefix) then return action end
    end
    error('no code action starting with ' .. prefix)
  end
  local function execute(action)
    local done, result = false, nil
    client.request('workspace/executeCommand', action.command, function(e, r) done = true; result = e or r end, 0)
    assert(vim.wait(20000, function() return done end), 'executeCommand did not answer')
    return result
  end

  local task = pick('codeloop: Run task in comment')
  out.task = task.title
  out.started = execute(task)
  assert(vim.wait(30000, function() return vim.tbl_contains(states, 'awaitingApproval') end), 'no proposal; states: ' .. table.concat(states, ','))
  local typed = os.getenv('E2E_TYPE_LINE')
  if typed then
    -- The user keeps typing (unsaved) while the proposal waits; Apply must keep it
    vim.api.nvim_buf_set_lines(0, -1, -1, false, { typed })
    vim.wait(500)
  end
  local apply = pick('codeloop: Apply proposal')
  out.apply = apply.title
  out.applied = execute(apply)
  vim.cmd('write')
  out.states = states
end)
