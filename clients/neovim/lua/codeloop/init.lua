-- codeloop for Neovim: starts the codeloop language server for every file buffer and adds what stock LSP
-- cannot — a free-text task prompt, a sessions list, a diff review with per-file apply/reject, a session's
-- transcript, steering, pause and resume, a status string.
-- Works on Neovim 0.7+ (vim.lsp.start when present, start_client + buf_attach_client before 0.8).
local M = {}

local defaults = {
  cmd = { 'codeloop', 'lsp' },
  root_markers = { '.git', '.codeloop.json' },
  -- Filetypes to attach to; nil attaches to every buffer that is a real file.
  filetypes = nil,
}
local config = vim.deepcopy(defaults)
local sessions = {} -- sessionId → { state = …, prompt = …, ended_at = … }, kept current by codeloop/sessionUpdate
local legacy_client_ids = {} -- root → client id (Neovim < 0.8)
local ENDED = { applied = true, finished = true, rejected = true, cancelled = true, failed = true }
-- How long an ended session stays in the statusline (a failure must be seen, not shown forever).
local ENDED_SHOWN_MS = 30000
local warned_roots = {}

local function notify(message, level)
  vim.schedule(function() vim.notify('codeloop: ' .. message, level or vim.log.levels.INFO) end)
end

--- The folder holding a root marker above the buffer's file; without one, the file's own folder (never the
--- working directory, which may be $HOME: indexing it would read everything the user has).
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
  if not warned_roots[dir] then
    warned_roots[dir] = true
    notify('no ' .. table.concat(config.root_markers, ' or ') .. ' above ' .. dir .. ': using that folder as the workspace', vim.log.levels.WARN)
  end
  return dir
end

local function clients_of(bufnr)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ bufnr = bufnr }) end
  return vim.tbl_values(vim.lsp.buf_get_clients(bufnr))
end

local review_buffers = {} -- sessionId → review buffer, refreshed when the session proposes again
local shown_diffs = {} -- sessionId → the diff its review buffer shows (what `a`/`A` may apply)
local refresh_review

local handlers = {
  ['codeloop/sessionUpdate'] = function(_, params)
    local session = sessions[params.sessionId] or {}
    session.state = params.state
    sessions[params.sessionId] = session
    if params.event and params.event.type == 'plan' then session.plan = params.event.data.plan end
    if ENDED[params.state] then
      session.ended_at = vim.loop.now()
      vim.defer_fn(function() vim.cmd('redrawstatus') end, ENDED_SHOWN_MS + 100)
    end
    if params.state == 'awaitingApproval' and params.event.type == 'proposal' then
      local caveat = params.event.data and params.event.data.caveat
      notify('proposal ready for session ' .. params.sessionId .. (caveat ~= vim.NIL and caveat and (' (' .. caveat .. ')') or '')
        .. ': :CodeloopReview ' .. params.sessionId, caveat ~= vim.NIL and caveat and vim.log.levels.WARN or nil)
      if review_buffers[params.sessionId] then vim.schedule(function() refresh_review(params.sessionId) end) end
    elseif params.state == 'awaitingPlanApproval' then
      notify('plan ready for session ' .. params.sessionId .. ': :CodeloopSessions to read, approve or reject it')
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
    -- Updates may have arrived before this answer: keep their state.
    sessions[result.sessionId] = sessions[result.sessionId] or { state = 'planning' }
    sessions[result.sessionId].prompt = prompt
    notify('started session ' .. result.sessionId)
  end)
end

local AT_WORK = { planning = true, working = true, testing = true }

local function session_actions(summary)
  local actions = { 'transcript' }
  if summary.state == 'awaitingPlanApproval' then vim.list_extend(actions, { 'read plan', 'approve plan', 'reject plan' }) end
  if summary.state == 'awaitingApproval' then vim.list_extend(actions, { 'review', 'apply', 'reject' }) end
  if summary.state == 'interrupted' then table.insert(actions, 'resume') end
  if AT_WORK[summary.state] then vim.list_extend(actions, { 'steer', 'pause' }) end
  if not ENDED[summary.state] then table.insert(actions, 'cancel') end
  return actions
end

local transcript_buffers = {} -- sessionId → its transcript buffer

--- Shows what a session did — the text `codeloop sessions show` prints: task, state, tokens and cost, the plan,
--- each tool call and its result, test runs, the proposal — in a scratch buffer (`g` shows it anew, `q` closes).
--- Without an id: the newest session of this workspace.
function M.transcript(session_id)
  if not session_id or session_id == '' then
    return M.request('codeloop/listSessions', vim.empty_dict(), function(result)
      if #result.sessions == 0 then return notify('no sessions') end
      M.transcript(result.sessions[1].sessionId)
    end)
  end
  M.request('codeloop/sessionTranscript', { sessionId = session_id }, function(result)
    local buf = transcript_buffers[session_id]
    if not buf or not vim.api.nvim_buf_is_valid(buf) then
      buf = vim.api.nvim_create_buf(false, true)
      transcript_buffers[session_id] = buf
      vim.api.nvim_buf_set_name(buf, 'codeloop://' .. session_id .. '.transcript')
      vim.bo[buf].bufhidden = 'wipe'
      vim.api.nvim_create_autocmd('BufWipeout', { buffer = buf, callback = function() transcript_buffers[session_id] = nil end })
      local opts = { buffer = buf, nowait = true }
      vim.keymap.set('n', 'g', function() M.transcript(session_id) end, opts)
      vim.keymap.set('n', 'q', '<cmd>close<cr>', opts)
    end
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(result.text, '\n', { trimempty = true }))
    vim.bo[buf].modifiable = false
    if vim.fn.bufwinid(buf) == -1 then
      vim.cmd('botright split')
      vim.api.nvim_win_set_buf(0, buf)
    end
  end)
end

--- Runs a session command (codeloop.steerSession, pauseSession, resumeSession); without a session id the
--- server picks the newest session of the workspace the command applies to.
local function session_command(command, session_id, extra, on_done)
  local args = vim.tbl_extend('force', extra or {}, session_id and { sessionId = session_id } or {})
  M.request('workspace/executeCommand', { command = command, arguments = { next(args) and args or vim.empty_dict() } }, on_done)
end

--- Sends a message to a session at work (the newest when no id): its model reads it at its next turn.
function M.steer(session_id, message)
  if not message or message == '' then
    return vim.ui.input({ prompt = 'message for the session: ' }, function(input)
      if input and input ~= '' then M.steer(session_id, input) end
    end)
  end
  session_command('codeloop.steerSession', session_id, { message = message }, function()
    notify('sent to ' .. (session_id or 'the session') .. ': the model reads it at its next turn')
  end)
end

--- Pauses a session at work (the newest when no id) at its next step.
function M.pause(session_id)
  session_command('codeloop.pauseSession', session_id, nil, function()
    notify((session_id and ('session ' .. session_id) or 'the session') .. ' pauses at its next step; :CodeloopResume goes on')
  end)
end

--- Goes on with an interrupted session (the newest when no id) from its last step.
function M.resume(session_id)
  session_command('codeloop.resumeSession', session_id, nil, function()
    notify('resumed ' .. (session_id and ('session ' .. session_id) or 'the session'))
  end)
end

--- Opens a session's plan in a scratch buffer (Markdown), with the keys to answer it.
function M.plan(session_id)
  M.request('codeloop/getSession', { sessionId = session_id }, function(session)
    if session.plan == vim.NIL or not session.plan then return notify('session ' .. session_id .. ' has no plan yet') end
    local buf = vim.api.nvim_create_buf(false, true)
    local lines = { '# codeloop plan: ' .. session.prompt, '# y: approve · r: reject (asks for feedback) · q: close', '' }
    vim.list_extend(lines, vim.split(session.plan, '\n'))
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].modifiable = false
    vim.bo[buf].filetype = 'markdown'
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
    local opts = { buffer = buf, nowait = true }
    vim.keymap.set('n', 'y', function() M.request('codeloop/approvePlan', { sessionId = session_id }); vim.cmd('close') end, opts)
    vim.keymap.set('n', 'r', function() M.reject(session_id); vim.cmd('close') end, opts)
    vim.keymap.set('n', 'q', '<cmd>close<cr>', opts)
  end)
end

--- Lists the sessions of this workspace and offers what each allows.
function M.sessions()
  M.request('codeloop/listSessions', vim.empty_dict(), function(result)
    if #result.sessions == 0 then return notify('no sessions') end
    vim.ui.select(result.sessions, {
      prompt = 'codeloop sessions',
      format_item = function(s)
        local verdict = type(s.verdict) == 'table' and ('  [' .. s.verdict.text .. ']') or ''
        return string.format('%s  %-20s %s%s', s.sessionId, s.state, s.prompt, verdict)
      end,
    }, function(summary)
      if not summary then return end
      vim.ui.select(session_actions(summary), { prompt = summary.sessionId }, function(action)
        if action == 'read plan' then M.plan(summary.sessionId)
        elseif action == 'approve plan' then M.request('codeloop/approvePlan', { sessionId = summary.sessionId })
        elseif action == 'reject plan' or action == 'reject' then M.reject(summary.sessionId)
        elseif action == 'review' then M.review(summary.sessionId)
        elseif action == 'apply' then M.apply(summary.sessionId)
        elseif action == 'transcript' then M.transcript(summary.sessionId)
        elseif action == 'steer' then M.steer(summary.sessionId)
        elseif action == 'pause' then M.pause(summary.sessionId)
        elseif action == 'resume' then M.resume(summary.sessionId)
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

--- Rejects a plan or proposal; feedback (asked for) sends the session back to work on it. Cancelling the
--- question (<Esc>) rejects nothing.
function M.reject(session_id, feedback)
  if feedback == nil then
    return vim.ui.input({ prompt = 'feedback (empty: just reject, <Esc>: keep it): ' }, function(input)
      if input == nil then return notify('nothing rejected') end
      M.reject(session_id, input)
    end)
  end
  M.request('codeloop/reject', { sessionId = session_id, feedback = feedback ~= '' and feedback or nil }, function()
    notify(feedback ~= '' and ('sent your feedback to session ' .. session_id .. ': it is working on a revision')
      or ('rejected session ' .. session_id))
  end)
end

function M.cancel(session_id)
  M.request('codeloop/cancel', { sessionId = session_id })
end

local function latest_waiting()
  for id, session in pairs(sessions) do
    if session.state == 'awaitingApproval' then return id end
  end
end

local REVIEW_KEYS = '# a: apply the file under the cursor · A: apply all · r: reject (asks for feedback) · q: close'

--- The review buffer's lines: the verdict and the keys first, then the diff as the server sent it.
local function review_lines(session)
  local lines = { '# codeloop proposal: ' .. session.prompt }
  if type(session.verdict) == 'table' then
    table.insert(lines, '# verdict: ' .. session.verdict.text)
    if type(session.verdict.lastFailure) == 'string' then
      table.insert(lines, '# last failure:')
      for _, line in ipairs(vim.split(session.verdict.lastFailure, '\n')) do table.insert(lines, '#   ' .. line) end
    end
  end
  table.insert(lines, REVIEW_KEYS)
  vim.list_extend(lines, vim.split(session.diff, '\n'))
  return lines
end

--- The files a review buffer's diff changes, in order (new files by their +++ name, deleted ones by ---).
local function diff_files(lines)
  local files = {}
  for i, text in ipairs(lines) do
    local path = text:match('^%+%+%+ b/(.*)$')
    if not path and text == '+++ /dev/null' then path = (lines[i - 1] or ''):match('^%-%-%- a/(.*)$') end
    if path then table.insert(files, { path = path, line = i }) end
  end
  return files
end

--- The file of the diff block holding the cursor (its --- / +++ lines included), or nil on the header.
local function file_at(lines, cursor)
  local current
  for _, file in ipairs(diff_files(lines)) do
    -- A block starts at its separator/`---` line, up to two lines above the `+++` line.
    if file.line - 2 <= cursor then current = file.path end
  end
  return current
end

--- Shows a session's proposal in its review buffer (created, or reused and refreshed), in a window.
local function show_review(session_id, session)
  local buf = review_buffers[session_id]
  if not buf or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    review_buffers[session_id] = buf
    vim.api.nvim_buf_set_name(buf, 'codeloop://' .. session_id .. '.diff')
    vim.bo[buf].bufhidden = 'wipe'
    vim.bo[buf].filetype = 'diff'
    vim.api.nvim_create_autocmd('BufWipeout', { buffer = buf, callback = function() review_buffers[session_id] = nil end })
    local opts = { buffer = buf, nowait = true }
    vim.keymap.set('n', 'a', function()
      local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
      local file = file_at(lines, vim.api.nvim_win_get_cursor(0)[1])
      if not file then
        local files = diff_files(lines)
        if #files ~= 1 then return notify('a applies the file under the cursor: move to a file\'s diff (A applies all)', vim.log.levels.WARN) end
        file = files[1].path
      end
      M.apply_shown(session_id, { file })
    end, opts)
    vim.keymap.set('n', 'A', function() M.apply_shown(session_id) end, opts)
    vim.keymap.set('n', 'r', function() M.reject(session_id) end, opts)
    vim.keymap.set('n', 'q', '<cmd>close<cr>', opts)
  end
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, review_lines(session))
  vim.bo[buf].modifiable = false
  shown_diffs[session_id] = session.diff
  if vim.fn.bufwinid(buf) == -1 then
    vim.cmd('botright split')
    vim.api.nvim_win_set_buf(0, buf)
  else
    vim.api.nvim_set_current_win(vim.fn.bufwinid(buf))
  end
end

--- Refreshes an open review buffer with the session's current proposal (after a revision).
refresh_review = function(session_id)
  local buf = review_buffers[session_id]
  if not buf or not vim.api.nvim_buf_is_valid(buf) then return end
  M.request('codeloop/getSession', { sessionId = session_id }, function(session)
    if type(session.diff) ~= 'string' or not vim.api.nvim_buf_is_valid(buf) then return end
    vim.bo[buf].modifiable = true
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, review_lines(session))
    vim.bo[buf].modifiable = false
    shown_diffs[session_id] = session.diff
    notify('the review of session ' .. session_id .. ' shows the revised proposal')
  end)
end

--- Applies (some files of) the proposal shown in the review buffer — and only that revision: when the session
--- has proposed again since, the buffer is refreshed instead and nothing is applied.
function M.apply_shown(session_id, files)
  local buf = review_buffers[session_id]
  M.request('codeloop/getSession', { sessionId = session_id }, function(session)
    if session.state ~= 'awaitingApproval' then return notify('session ' .. session_id .. ' has no proposal waiting (' .. session.state .. ')', vim.log.levels.WARN) end
    if buf and vim.api.nvim_buf_is_valid(buf) and shown_diffs[session_id] ~= session.diff then
      refresh_review(session_id)
      return notify('the proposal changed since it was shown: review the new revision and apply again', vim.log.levels.WARN)
    end
    M.apply(session_id, files)
  end)
end

--- Opens a session's diff in a scratch buffer: `a` applies the file under the cursor, `A` all, `r` rejects.
function M.review(session_id)
  session_id = session_id ~= '' and session_id or latest_waiting()
  if not session_id then return notify('no proposal is waiting') end
  M.request('codeloop/getSession', { sessionId = session_id }, function(session)
    if type(session.diff) ~= 'string' then return notify('session ' .. session_id .. ' has no proposal (' .. session.state .. ')') end
    show_review(session_id, session)
  end)
end

--- A short string for the statusline: sessions running or waiting, and those ended in the last 30 seconds.
function M.status()
  local parts = {}
  local now = vim.loop.now()
  for id, session in pairs(sessions) do
    if not session.ended_at or now - session.ended_at < ENDED_SHOWN_MS then
      table.insert(parts, id .. ':' .. session.state)
    end
  end
  table.sort(parts)
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
  vim.api.nvim_create_user_command('CodeloopTranscript', function(args) M.transcript(args.args) end,
    { nargs = '?', desc = 'codeloop: show what a session did (default: the newest)' })
  -- :CodeloopSteer [ID] MESSAGE — a first word naming a session this editor has seen is its id.
  vim.api.nvim_create_user_command('CodeloopSteer', function(args)
    local first, rest = args.args:match('^(%S+)%s+(.+)$')
    if first and sessions[first] then return M.steer(first, rest) end
    M.steer(nil, args.args)
  end, { nargs = '*', desc = 'codeloop: send a message to a session at work (default: the newest)' })
  vim.api.nvim_create_user_command('CodeloopPause', function(args) M.pause(args.args ~= '' and args.args or nil) end,
    { nargs = '?', desc = 'codeloop: pause a session at its next step (default: the newest at work)' })
  vim.api.nvim_create_user_command('CodeloopResume', function(args) M.resume(args.args ~= '' and args.args or nil) end,
    { nargs = '?', desc = 'codeloop: resume an interrupted session (default: the newest)' })
  vim.api.nvim_create_user_command('CodeloopCancel', function(args)
    local id = args.args ~= '' and args.args or nil
    if id then return M.cancel(id) end
    for sid, s in pairs(sessions) do
      if not ENDED[s.state] then M.cancel(sid) end
    end
  end, { nargs = '?', desc = 'codeloop: cancel a session (default: all running)' })
end

M._sessions = sessions
return M
