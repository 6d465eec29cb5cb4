-- Drives stock Neovim (0.7+, no plugin) through codeloop's whole flow as a user would with the built-in LSP client:
-- open a file, pick the "Run task in comment" code action, wait for the proposal, pick "Apply proposal", save.
-- Inputs come from the environment; the outcome is written as JSON to E2E_OUT.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('E2E_FILE')))
  local states = {}
  local progress = {}
  local client_id = vim.lsp.start_client({
    name = 'codeloop',
    cmd = { os.getenv('E2E_NODE'), os.getenv('E2E_CLI'), 'lsp', '--standalone' },
    root_dir = os.getenv('E2E_ROOT'),
    handlers = {
      ['codeloop/sessionUpdate'] = function(_, params) table.insert(states, params.state) end,
      ['codeloop/indexUpdate'] = function() end,
      -- What Neovim's progress display (vim.lsp.status(), LspProgress) gets: titles and messages.
      ['$/progress'] = function(_, params)
        local value = params.value or {}
        if value.title then table.insert(progress, value.title) end
        if value.message then table.insert(progress, value.message) end
      end,
    },
  })
  vim.lsp.buf_attach_client(0, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  assert(vim.wait(20000, function() return client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil end), 'server did not initialize')

  local actions = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-code-actions.lua')(client)

  local task = actions.pick('codeloop: Run task in comment')
  out.task = task.title
  out.started = actions.execute(task)
  assert(vim.wait(30000, function() return vim.tbl_contains(states, 'awaitingApproval') end), 'no proposal; states: ' .. table.concat(states, ','))
  -- The user keeps typing (unsaved) while the proposal waits: a new last line, or a new text for line N ("N=text")
  local typed, changed = os.getenv('E2E_TYPE_LINE'), os.getenv('E2E_CHANGE_LINE')
  if typed then vim.api.nvim_buf_set_lines(0, -1, -1, false, { typed }) end
  if changed then
    local number, text = changed:match('^(%d+)=(.*)$')
    vim.api.nvim_buf_set_lines(0, tonumber(number) - 1, tonumber(number), false, { text })
  end
  if typed or changed then vim.wait(500) end
  local apply = actions.pick('codeloop: Apply proposal')
  out.apply = apply.title
  out.applied = actions.execute(apply)
  vim.cmd('wall')
  out.states = states
  out.progress = progress
end)
