-- codeloop for Neovim: starts the codeloop language server for every file buffer and adds what stock LSP
-- cannot — a free-text task prompt, a sessions list, a diff review with per-file apply/reject, a status string.
-- Works on Neovim 0.7+ (vim.lsp.start when present, start_client + buf_attach_client before 0.8).
local M = {}

local defaults = {
  cmd = { 'codeloop', 'lsp' },
  root_markers = { '.git', '.codeloop.json' },
  -- Filetypes to attach to; nil attaches to every buffer that is a real file.
  filetypes = nil,
}
local config = vim.deepcopy(defaults)
local sessions = {} -- sessionId → { state = …, prompt = … }, kept current by codeloop/sessionUpdate
local legacy_client_ids = {} -- root → client id (Neovim < 0.8)

local function notify(message, level)
  vim.schedule(function() vim.notify('codeloop: ' .. message, level or vim.log.levels.INFO) end)
end

local function find_root(bufnr)
  local dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ':p:h')
  for _, marker in ipairs(config.root_markers) do
    local found = vim.fn.finddir(marker, dir .. ';')
    if found == '' then found = vim.fn.findfile(marker, dir .. ';') end
    if found ~= '' then
      local marker_path = (vim.fn.fnamemodify(found, ':p'):gsub('/$', ''))
      return vim.fn.fnamemodify(marker_path, ':h')
    end
  end
  return vim.fn.getcwd()
end

local function clients_of(bufnr)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ bufnr = bufnr }) end
  return vim.tbl_values(vim.lsp.buf_get_clients(bufnr))
end

local handlers = {
  ['codeloop/sessionUpdate'] = function(_, params)
    local session = sessions[params.sessionId] or {}
    session.state = params.state
    sessions[params.sessionId] = session
    if params.event and params.event.type == 'plan' then session.plan = params.event.data.plan end
    if params.state == 'awaitingApproval' and params.event.type == 'proposal' then
      notify('proposal ready for session ' .. params.sessionId .. ': :CodeloopReview ' .. params.sessionId)
    elseif params.state == 'awaitingPlanApproval' then
      notify('plan ready for session ' .. params.sessionId .. ': :CodeloopSessions to approve')
    elseif params.state == 'failed' then
      notify('session ' .. params.sessionId .. ' failed: ' .. tostring(params.event.data and params.event.data.message), vim.log.levels.ERROR)
    end
    vim.schedule(function() vim.cmd('redrawstatus') end)
  end,
  ['codeloop/indexUpdate'] = function() end,
}

local function attach(bufnr)
  if vim.bo[bufnr].buftype ~= '' or vim.api.nvim_buf_get_name(bufnr) == '' then return end
  if config.filetypes and not vim.tbl_contains(config.filetypes, vim.bo[bufnr].filetype) then return end
  local root = find_root(bufnr)
  local spec = { name = 'codeloop', cmd = config.cmd, root_dir = root, handlers = handlers }
  if vim.lsp.start then
    vim.lsp.start(spec, { bufnr = bufnr })
    return
  end
  local id = legacy_client_ids[root]
  if not id or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(spec)
    legacy_client_ids[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
end

--- The codeloop client serving a buffer (or any codeloop client), or nil.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  for _, client in ipairs(clients_of(bufnr)) do
    if client.name == 'codeloop' then return client end
  end
  for _, client in ipairs(vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()) do
    if client.name == 'codeloop' then return client end
  end
end

--- Sends a request to codeloop and calls on_result(result) (errors are shown, not raised).
function M.request(method, params, on_result, bufnr)
  local client = M.client(bufnr)
  if not client then return notify('no codeloop server is running for this buffer', vim.log.levels.ERROR) end
  client.request(method, params, function(err, result)
    if err then return notify(err.message, vim.log.levels.ERROR) end
    if on_result then vim.schedule(function() on_result(result) end) end
  end, bufnr or 0)
end

--- Starts a task: the prompt, this buffer, and the selected lines (or the cursor line).
function M.task(prompt, line1, line2)
  if not prompt or prompt == '' then
    return vim.ui.input({ prompt = 'codeloop task: ' }, function(input) if input and input ~= '' then M.task(input, line1, line2) end end)
  end
  local cursor = vim.api.nvim_win_get_cursor(0)[1]
  line1, line2 = line1 or cursor, line2 or cursor
  M.request('codeloop/startTask', {
    prompt = prompt,
    uri = vim.uri_from_bufnr(0),
    range = { start = { line = line1 - 1, character = 0 }, ['end'] = { line = line2 - 1, character = 0 } },
  }, function(result)
    sessions[result.sessionId] = { state = 'planning', prompt = prompt }
    notify('started session ' .. result.sessionId)
  end)
end

local function session_actions(summary)
  local actions = {}
  if summary.state == 'awaitingPlanApproval' then table.insert(actions, 'approve plan') end
  if summary.state == 'awaitingApproval' then vim.list_extend(actions, { 'review', 'apply', 'reject' }) end
  if summary.state ~= 'applied' and summary.state ~= 'rejected' and summary.state ~= 'cancelled' and summary.state ~= 'failed' and summary.state ~= 'finished' then
    table.insert(actions, 'cancel')
  end
  return actions
end

--- Lists the sessions of this workspace and offers what each allows.
function M.sessions()
  M.request('codeloop/listSessions', {}, function(result)
    if #result.sessions == 0 then return notify('no sessions') end
    vim.ui.select(result.sessions, {
      prompt = 'codeloop sessions',
      format_item = function(s) return string.format('%s  %-20s %s', s.sessionId, s.state, s.prompt) end,
    }, function(summary)
      if not summary then return end
      vim.ui.select(session_actions(summary), { prompt = summary.sessionId }, function(action)
        if action == 'approve plan' then M.request('codeloop/approvePlan', { sessionId = summary.sessionId })
        elseif action == 'review' then M.review(summary.sessionId)
        elseif action == 'apply' then M.apply(summary.sessionId)
        elseif action == 'reject' then M.reject(summary.sessionId)
        elseif action == 'cancel' then M.cancel(summary.sessionId) end
      end)
    end)
  end)
end

function M.apply(session_id, files)
  M.request('codeloop/applyProposal', { sessionId = session_id, files = files }, function(result)
    if #result.conflicts > 0 then
      notify('not applied: ' .. table.concat(result.conflicts, '; '), vim.log.levels.WARN)
    elseif result.applied then
      notify('applied ' .. (files and table.concat(files, ', ') or 'the proposal') .. ' (save to write it to disk)')
    end
  end)
end

--- Rejects a proposal; feedback (asked for) sends the session back to work on it.
function M.reject(session_id, feedback)
  if feedback == nil then
    return vim.ui.input({ prompt = 'feedback (empty: just reject): ' }, function(input) M.reject(session_id, input or '') end)
  end
  M.request('codeloop/reject', { sessionId = session_id, feedback = feedback ~= '' and feedback or nil })
end

function M.cancel(session_id)
  M.request('codeloop/cancel', { sessionId = session_id })
end

local function latest_waiting()
  for id, session in pairs(sessions) do
    if session.state == 'awaitingApproval' then return id end
  end
end

--- Opens a session's diff in a scratch buffer: `a` applies the file under the cursor, `A` all, `r` rejects.
function M.review(session_id)
  session_id = session_id ~= '' and session_id or latest_waiting()
  if not session_id then return notify('no proposal is waiting') end
  M.request('codeloop/getSession', { sessionId = session_id }, function(session)
    if not session.diff then return notify('session ' .. session_id .. ' has no proposal (' .. session.state .. ')') end
    vim.cmd('botright new')
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_name(buf, 'codeloop://' .. session_id .. '.diff')
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(session.diff, '\n'))
    vim.bo[buf].buftype = 'nofile'
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = 'diff'
    local function file_under_cursor()
      for line = vim.api.nvim_win_get_cursor(0)[1], 1, -1 do
        local text = vim.api.nvim_buf_get_lines(buf, line - 1, line, false)[1]
        local path = text:match('^%+%+%+ b/(.*)$') or text:match('^%-%-%- a/(.*)$') or text:match('^Index: (.*)$')
        if path then return path end
      end
    end
    local opts = { buffer = buf, nowait = true }
    vim.keymap.set('n', 'a', function() local f = file_under_cursor(); if f then M.apply(session_id, { f }) end end, opts)
    vim.keymap.set('n', 'A', function() M.apply(session_id) end, opts)
    vim.keymap.set('n', 'r', function() M.reject(session_id) end, opts)
    vim.keymap.set('n', 'q', '<cmd>close<cr>', opts)
  end)
end

--- A short string for the statusline: the most recent session's state.
function M.status()
  local parts = {}
  for id, session in pairs(sessions) do
    if session.state ~= 'applied' and session.state ~= 'rejected' and session.state ~= 'cancelled' and session.state ~= 'finished' then
      table.insert(parts, id .. ':' .. session.state)
    end
  end
  return #parts > 0 and ('codeloop ' .. table.concat(parts, ' ')) or ''
end

function M.setup(opts)
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup('codeloop', { clear = true })
  vim.api.nvim_create_autocmd({ 'BufReadPost', 'BufNewFile' }, { group = group, callback = function(args) attach(args.buf) end })
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then attach(buf) end
  end
  vim.api.nvim_create_user_command('Codeloop', function(args)
    M.task(args.args, args.range > 0 and args.line1 or nil, args.range > 0 and args.line2 or nil)
  end, { nargs = '*', range = true, desc = 'codeloop: run a task (prompt), on the selection or cursor line' })
  vim.api.nvim_create_user_command('CodeloopSessions', M.sessions, { desc = 'codeloop: list sessions' })
  vim.api.nvim_create_user_command('CodeloopReview', function(args) M.review(args.args) end, { nargs = '?', desc = 'codeloop: review a proposal' })
  vim.api.nvim_create_user_command('CodeloopCancel', function(args)
    local id = args.args ~= '' and args.args or nil
    if id then return M.cancel(id) end
    for sid, s in pairs(sessions) do
      if s.state ~= 'applied' and s.state ~= 'rejected' and s.state ~= 'cancelled' and s.state ~= 'failed' and s.state ~= 'finished' then M.cancel(sid) end
    end
  end, { nargs = '?', desc = 'codeloop: cancel a session (default: all running)' })
end

M._sessions = sessions
return M
