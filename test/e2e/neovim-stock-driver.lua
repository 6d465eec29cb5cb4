-- Drives stock Neovim (0.7+, no plugin) through codeloop's whole flow as a user would with the built-in LSP client:
-- open a file, pick the "Run task in comment" code action, wait for the proposal, pick "Apply proposal", save.
-- With E2E_REWIND, the first proposal is rewound one step (codeloop.rewindSession, no arguments) and resumed
-- with the "Resume session" code action first; with E2E_REVERT, the applied proposal is then reverted with the
-- "Revert applied proposal" code action (after a first try that conflicts with a line typed over the change).
-- Inputs come from the environment; the outcome is written as JSON to E2E_OUT.
local run = dofile(vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':h') .. '/e2e-result.lua')

run(function(out)
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('E2E_FILE')))
  local states = {}
  local progress = {}
  local messages = {}
  local client_id = vim.lsp.start_client({
    name = 'codeloop',
    cmd = { os.getenv('E2E_NODE'), os.getenv('E2E_CLI'), 'lsp', '--standalone' },
    root_dir = os.getenv('E2E_ROOT'),
    handlers = {
      ['codeloop/sessionUpdate'] = function(_, params) table.insert(states, params.state) end,
      ['codeloop/indexUpdate'] = function() end,
      ['window/showMessage'] = function(_, params) table.insert(messages, params.message) end,
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
  local function count(state)
    return #vim.tbl_filter(function(s) return s == state end, states)
  end
  local function buffer() return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n') end

  local task = actions.pick('codeloop: Run task in comment')
  out.task = task.title
  out.started = actions.execute(task)
  assert(vim.wait(30000, function() return vim.tbl_contains(states, 'awaitingApproval') end), 'no proposal; states: ' .. table.concat(states, ','))
  if os.getenv('E2E_REWIND') then
    out.rewound = actions.execute({ title = 'rewind', command = { command = 'codeloop.rewindSession' } })
    assert(vim.wait(20000, function() return vim.tbl_contains(states, 'interrupted') end), 'not rewound; states: ' .. table.concat(states, ','))
    local resume = actions.pick('codeloop: Resume session')
    out.resume = resume.title
    actions.execute(resume)
    assert(vim.wait(30000, function() return count('awaitingApproval') == 2 end), 'no proposal after the rewind; states: ' .. table.concat(states, ','))
  end
  -- The user keeps typing (unsaved) while the proposal waits: a new last line, or a new text for line N ("N=text")
  local typed, changed = os.getenv('E2E_TYPE_LINE'), os.getenv('E2E_CHANGE_LINE')
  if typed then vim.api.nvim_buf_set_lines(0, -1, -1, false, { typed }) end
  if changed then
    local number, text = changed:match('^(%d+)=(.*)$')
    vim.api.nvim_buf_set_lines(0, tonumber(number) - 1, tonumber(number), false, { text })
  end
  -- No wait for the typing to reach codeloop: Neovim (0.7 and 0.10 alike) flushes a buffer's pending didChange
  -- before each request it sends, so the code action request below already follows it.
  local apply = actions.pick('codeloop: Apply proposal')
  out.apply = apply.title
  out.applied = actions.execute(apply)
  vim.cmd('wall')
  if os.getenv('E2E_REVERT') then
    out.applied_buffer = buffer()
    -- A line typed over the applied change (unsaved): the revert reports it and leaves the buffer as it is.
    vim.api.nvim_buf_set_lines(0, 0, 1, false, { 'exports.add = (a, b) => b + a;' })
    out.conflicted = actions.execute(actions.pick('codeloop: Revert applied proposal'))
    out.conflicted_buffer = buffer()
    vim.cmd('undo')
    local revert = actions.pick('codeloop: Revert applied proposal')
    out.revert = revert.title
    out.reverted = actions.execute(revert)
    assert(vim.wait(20000, function() return vim.tbl_contains(states, 'reverted') end), 'not reverted; states: ' .. table.concat(states, ','))
    out.reverted_buffer = buffer()
    vim.cmd('wall')
  end
  out.messages = messages
  out.states = states
  out.progress = progress
end)
