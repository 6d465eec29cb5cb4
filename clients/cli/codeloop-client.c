/*
 * codeloop-client: `codeloop search` answered by a running daemon without starting Node.
 *
 * Why it exists: `node -e 0` alone takes ~85 ms here, longer than rg's whole search of a node_modules tree
 * (~50 ms), so a Node process cannot be as fast as rg however little it loads (measurements: bench/RESULTS.md,
 * "CLI through the daemon"). Tools with a daemon ship a small native client for this reason (emacsclient,
 * watchman's client). This one does as little as possible and knows nothing about search:
 *   - it understands only well-formed `codeloop search` command lines (the options of `codeloop search --help`);
 *   - it finds the daemon's socket as the Node CLI does (server/daemon/daemon-paths.ts) and uses it only when the
 *     folder is this user's and private (0700) and the socket is this user's: never another user's socket;
 *   - it sends one `codeloop/cliSearchOutput` request (protocol/REFERENCE.md): the daemon runs the search and
 *     renders exactly what the Node CLI prints (server/cli/search-output.ts), base64-encoded; this program
 *     decodes it to stdout and exits with the daemon's exit code (0 hits, 1 none, as rg).
 * Everything else — another command, `--help`, a usage mistake, a directory that does not resolve, no daemon, a
 * dead socket, any error answer, no answer within CODELOOP_BUSY_NOTICE_MS (then with CODELOOP_WAITED_MS, so
 * the Node CLI's busy notice counts this wait too) — is handed to the Node CLI
 * (`node dist/server/cli.js` with the same arguments), which then prints what it always prints. So the output
 * and exit code are the Node CLI's in every case; this program only makes the common one fast.
 *
 * POSIX only, no dependencies; built by `npm run build` when a C compiler is present (clients/cli/build.sh).
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The Node CLI, relative to this program (dist/clients/cli/codeloop-client → dist/server/cli.js). */
#define NODE_CLI_FROM_HERE "/../../server/cli.js"
/* This build's id (dist/server/build-info.json, passed by build.sh): a daemon of another build refuses the request,
 * and the Node CLI, handed over to, meets it (server/daemon/daemon-build.ts: replaces an older one, or says why not). */
#ifndef CODELOOP_BUILD_ID
#define CODELOOP_BUILD_ID ""
#endif
/* How long to wait for the daemon before the Node CLI (which tells the user the daemon is busy) takes over. */
#define DEFAULT_WAIT_MS 10000

static char **saved_argv;

/* Runs the Node CLI with this command line: the answer for every case this program does not handle itself. */
static void hand_over(void) {
  char self[PATH_MAX], cli[PATH_MAX + sizeof NODE_CLI_FROM_HERE];
  if (!realpath(saved_argv[0], self)) {
    fprintf(stderr, "codeloop: cannot find the codeloop installation from %s: %s\n", saved_argv[0], strerror(errno));
    exit(70);
  }
  *strrchr(self, '/') = '\0';
  snprintf(cli, sizeof cli, "%s%s", self, NODE_CLI_FROM_HERE);
  int argc = 0;
  while (saved_argv[argc]) argc++;
  char **args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) exit(70);
  args[0] = "node";
  args[1] = cli;
  for (int i = 1; i < argc; i++) args[i + 1] = saved_argv[i];
  execvp("node", args);
  fprintf(stderr, "codeloop: cannot run node (needed by codeloop): %s\n", strerror(errno));
  exit(70);
}

/* A growable byte buffer; running out of memory hands over (the Node CLI will say what is wrong). */
typedef struct { char *data; size_t length, capacity; } Buffer;

static void append(Buffer *buffer, const char *bytes, size_t length) {
  if (buffer->length + length + 1 > buffer->capacity) {
    size_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (buffer->length + length + 1 > capacity) capacity *= 2;
    char *grown = realloc(buffer->data, capacity);
    if (!grown) hand_over();
    buffer->data = grown;
    buffer->capacity = capacity;
  }
  memcpy(buffer->data + buffer->length, bytes, length);
  buffer->length += length;
  buffer->data[buffer->length] = '\0';
}

static void append_text(Buffer *buffer, const char *text) { append(buffer, text, strlen(text)); }

/* True when `text` is well-formed UTF-8 (RFC 3629): only then is it sent as a JSON string unchanged. */
static int is_utf8(const unsigned char *text) {
  while (*text) {
    unsigned char lead = *text;
    int length = lead < 0x80 ? 1 : lead >= 0xC2 && lead <= 0xDF ? 2 : lead >= 0xE0 && lead <= 0xEF ? 3 : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0;
    if (!length) return 0;
    unsigned char low = 0x80, high = 0xBF;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
    if (length > 1 && (text[1] < low || text[1] > high)) return 0;
    for (int k = 2; k < length; k++) if (text[k] < 0x80 || text[k] > 0xBF) return 0;
    text += length;
  }
  return 1;
}

/* Appends `text` (valid UTF-8) as a JSON string. */
static void append_json_string(Buffer *buffer, const char *text) {
  append_text(buffer, "\"");
  for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
    char escaped[8];
    if (*c == '"' || *c == '\\') {
      escaped[0] = '\\';
      escaped[1] = (char)*c;
      append(buffer, escaped, 2);
    } else if (*c < 0x20) {
      snprintf(escaped, sizeof escaped, "\\u%04x", *c);
      append_text(buffer, escaped);
    } else {
      append(buffer, (const char *)c, 1);
    }
  }
  append_text(buffer, "\"");
}

/* The parsed command line; anything outside what `codeloop search` accepts hands over. */
typedef struct {
  const char *mode;
  int ignore_case, json;
  long limit;
  const char *query, *dir;
} Search;

static Search parse_search(int argc, char **argv) {
  Search search = { "literal", 0, 0, 0, NULL, NULL };
  const char *positionals[2];
  int count = 0, modes = 0, options_done = 0;
  for (int i = 2; i < argc; i++) {
    const char *arg = argv[i];
    if (options_done || arg[0] != '-' || arg[1] == '\0') {
      if (count == 2) hand_over();
      positionals[count++] = arg;
    } else if (strcmp(arg, "--") == 0) {
      options_done = 1;
    } else if (strcmp(arg, "--regex") == 0 || strcmp(arg, "--symbol") == 0 || strcmp(arg, "--text") == 0) {
      if (strcmp(search.mode, arg + 2) != 0) modes++;
      search.mode = arg + 2;
    } else if (strcmp(arg, "-i") == 0 || strcmp(arg, "--ignore-case") == 0) {
      search.ignore_case = 1;
    } else if (strcmp(arg, "--json") == 0) {
      search.json = 1;
    } else if (strcmp(arg, "--no-refresh") == 0) {
      /* Only about searching without a daemon; the daemon's index is kept fresh by its watcher. */
    } else if (strncmp(arg, "--limit", 7) == 0 && (arg[7] == '\0' || arg[7] == '=')) {
      const char *value = arg[7] == '=' ? arg + 8 : (i + 1 < argc ? argv[++i] : NULL);
      if (!value || !*value || strlen(value) > 6 || strspn(value, "0123456789") != strlen(value)) hand_over();
      search.limit = strtol(value, NULL, 10);
      if (search.limit < 1 || search.limit > 100000) hand_over();
    } else {
      hand_over();
    }
  }
  if (modes > 1 || count == 0) hand_over();
  search.query = positionals[0];
  search.dir = count == 2 ? positionals[1] : NULL;
  if (!is_utf8((const unsigned char *)search.query) || (search.dir && !is_utf8((const unsigned char *)search.dir))) hand_over();
  return search;
}

/* The daemon's socket (server/daemon/daemon-paths.ts), or hands over when it is not this user's private one. */
static void socket_path(char *path, size_t size) {
  char directory[PATH_MAX];
  const char *runtime = getenv("CODELOOP_RUNTIME_DIR"), *xdg = getenv("XDG_RUNTIME_DIR");
  if (runtime) {
    snprintf(directory, sizeof directory, "%s", runtime);
  } else if (xdg && xdg[0] == '/') {
    snprintf(directory, sizeof directory, "%s/codeloop", xdg);
  } else {
    /* Node's os.tmpdir(): TMPDIR, TMP, TEMP, else /tmp. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = getenv("TMP");
    if (!tmp || !*tmp) tmp = getenv("TEMP");
    if (!tmp || !*tmp) tmp = "/tmp";
    snprintf(directory, sizeof directory, "%s/codeloop-%lu", tmp, (unsigned long)getuid());
  }
  struct stat folder, sock;
  if (!*directory || lstat(directory, &folder) != 0 || !S_ISDIR(folder.st_mode) || folder.st_uid != getuid() || (folder.st_mode & 077)) hand_over();
  if ((size_t)snprintf(path, size, "%s/daemon.sock", directory) >= size) hand_over();
  if (lstat(path, &sock) != 0 || !S_ISSOCK(sock.st_mode) || sock.st_uid != getuid()) hand_over();
}

static long now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

/* --- the least JSON reading that finds `id`, `result.exitCode` and `result.output` in the daemon's answer --- */

static const char *skip_space(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* Past a JSON string starting at `p` (at its quote), or NULL when malformed. */
static const char *skip_string(const char *p) {
  if (*p != '"') return NULL;
  for (p++; *p && *p != '"'; p++) if (*p == '\\' && !*++p) return NULL;
  return *p == '"' ? p + 1 : NULL;
}

/* Past any JSON value starting at `p`, or NULL when malformed. */
static const char *skip_value(const char *p) {
  p = skip_space(p);
  if (*p == '"') return skip_string(p);
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = skip_space(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        p = skip_string(skip_space(p));
        if (!p || *(p = skip_space(p)) != ':') return NULL;
        p++;
      }
      if (!(p = skip_value(p))) return NULL;
      p = skip_space(p);
      if (*p == close) return p + 1;
      if (*p != ',') return NULL;
      p++;
    }
  }
  if (!*p || !strchr("-0123456789tfn", *p)) return NULL;
  while (*p && strchr("+-.0123456789eEtruefalsn", *p)) p++;
  return p;
}

/*
 * Calls `visit(key, value)` for each member of the object at `p` (keys compared without their quotes; values
 * point at their first character). Returns 0 when the object is malformed.
 */
static int each_member(const char *p, void (*visit)(const char *key, size_t key_length, const char *value, void *state), void *state) {
  p = skip_space(p);
  if (*p != '{') return 0;
  p = skip_space(p + 1);
  if (*p == '}') return 1;
  for (;;) {
    const char *key = skip_space(p), *end = skip_string(key);
    if (!end) return 0;
    p = skip_space(end);
    if (*p != ':') return 0;
    const char *value = skip_space(p + 1);
    const char *after = skip_value(value);
    if (!after) return 0;
    visit(key + 1, (size_t)(end - key - 2), value, state);
    p = skip_space(after);
    if (*p == '}') return 1;
    if (*p != ',') return 0;
    p++;
  }
}

typedef struct { int is_ours, has_error, has_method; const char *result; } Message;
typedef struct { long exit_code; const char *output; } Answer;

static int key_is(const char *key, size_t length, const char *name) { return length == strlen(name) && memcmp(key, name, length) == 0; }

static void visit_message(const char *key, size_t length, const char *value, void *state) {
  Message *message = state;
  if (key_is(key, length, "id")) message->is_ours = value[0] == '1' && !strchr("0123456789.eE", value[1]);
  else if (key_is(key, length, "error")) message->has_error = 1;
  else if (key_is(key, length, "method")) message->has_method = 1; /* the daemon's own request or notification */
  else if (key_is(key, length, "result")) message->result = value;
}

static void visit_result(const char *key, size_t length, const char *value, void *state) {
  Answer *answer = state;
  if (key_is(key, length, "exitCode") && (value[0] == '0' || value[0] == '1') && !strchr("0123456789.eE", value[1])) answer->exit_code = value[0] - '0';
  else if (key_is(key, length, "output") && value[0] == '"') answer->output = value + 1;
}

static int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* Decodes the base64 string starting at `text` (up to its closing quote) in place; its length, or -1. */
static long decode_base64(char *text) {
  char *out = text;
  unsigned bits = 0;
  int held = 0;
  const char *in = text;
  for (; *in && *in != '"' && *in != '='; in++) {
    int value = base64_value(*in);
    if (value < 0) return -1;
    bits = (bits << 6) | (unsigned)value;
    held += 6;
    if (held >= 8) {
      held -= 8;
      *out++ = (char)((bits >> held) & 0xFF);
    }
  }
  while (*in == '=') in++;
  return *in == '"' ? out - text : -1;
}

/* The symbolic name of a write error, as Node reports it (error.code): the ones a write to stdout can meet. */
static const char *errno_name(int error) {
  switch (error) {
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EIO: return "EIO";
    case EFBIG: return "EFBIG";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case ECONNRESET: return "ECONNRESET";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    default: return strerror(error);
  }
}

static void write_all(const char *bytes, size_t length) {
  while (length) {
    ssize_t written = write(STDOUT_FILENO, bytes, length);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      /* A reader gone (`| head -1`) ends quietly; any other failure is said as the Node CLI says it (server/cli.ts). */
      if (errno == EPIPE) exit(0);
      fprintf(stderr, "codeloop: cannot write to standard output (%s)\n", errno_name(errno));
      exit(74);
    }
    bytes += written;
    length -= (size_t)written;
  }
}

int main(int argc, char **argv) {
  saved_argv = argv;
  /* A daemon that hangs up, or a closed stdout, is an error return rather than death (as in Node, which ignores it too). */
  signal(SIGPIPE, SIG_IGN);
  /* A standard stream closed by the caller (`codeloop search x >&-`) is /dev/null, as Node makes it at its start:
   * otherwise the daemon's socket would take descriptor 1 and the output would be written back into it. */
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY) != fd) exit(70);
  }
  if (argc < 2 || strcmp(argv[1], "search") != 0) hand_over();
  Search search = parse_search(argc, argv);

  /* The workspace root as the Node CLI resolves it (workspace-root.ts); when it does not resolve, Node says why. */
  char root[PATH_MAX];
  struct stat root_stat;
  if (!realpath(search.dir ? search.dir : ".", root) || stat(root, &root_stat) != 0 || !S_ISDIR(root_stat.st_mode)
      || access(root, R_OK | X_OK) != 0 || !is_utf8((unsigned char *)root)) hand_over();

  char path[sizeof ((struct sockaddr_un *)0)->sun_path];
  socket_path(path, sizeof path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  memcpy(address.sun_path, path, sizeof path);
  /* Not inherited by the Node CLI when handed over: the daemon sees this request's connection close, not held open. */
  if (fd < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) hand_over();

  Buffer body = { 0 }, request = { 0 };
  append_text(&body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"codeloop/cliSearchOutput\",\"params\":{\"query\":");
  append_json_string(&body, search.query);
  append_text(&body, ",\"mode\":");
  append_json_string(&body, search.mode);
  append_text(&body, search.ignore_case ? ",\"caseInsensitive\":true" : ",\"caseInsensitive\":false");
  if (search.limit) {
    char limit[32];
    snprintf(limit, sizeof limit, ",\"limit\":%ld", search.limit);
    append_text(&body, limit);
  }
  append_text(&body, ",\"root\":");
  append_json_string(&body, root);
  append_text(&body, search.json ? ",\"json\":true" : ",\"json\":false");
  if (search.dir) {
    append_text(&body, ",\"displayDir\":");
    append_json_string(&body, search.dir);
  }
  if (CODELOOP_BUILD_ID[0]) {
    append_text(&body, ",\"buildId\":");
    append_json_string(&body, CODELOOP_BUILD_ID);
  }
  append_text(&body, "}}");
  char header[64];
  snprintf(header, sizeof header, "Content-Length: %zu\r\n\r\n", body.length);
  append_text(&request, header);
  append(&request, body.data, body.length);
  for (size_t sent = 0; sent < request.length;) {
    ssize_t n = write(fd, request.data + sent, request.length - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) hand_over();
    sent += (size_t)n;
  }

  const char *wait_setting = getenv("CODELOOP_BUSY_NOTICE_MS");
  long wait_ms = wait_setting && *wait_setting ? strtol(wait_setting, NULL, 10) : DEFAULT_WAIT_MS;
  long started = now_ms(), deadline = started + wait_ms;
  Buffer received = { 0 };
  size_t consumed = 0;
  for (;;) {
    /* Every complete message first: the daemon may send notifications before the answer. */
    char *headers_end;
    while (received.length > consumed && (headers_end = strstr(received.data + consumed, "\r\n\r\n"))) {
      const char *length_field = strstr(received.data + consumed, "Content-Length:");
      if (!length_field || length_field > headers_end) hand_over();
      size_t length = strtoul(length_field + 15, NULL, 10), start = (size_t)(headers_end + 4 - received.data);
      if (received.length < start + length) break;
      char saved = received.data[start + length];
      received.data[start + length] = '\0';
      Message message = { 0, 0, 0, NULL };
      if (!each_member(received.data + start, visit_message, &message)) hand_over();
      if (message.is_ours && !message.has_method) {
        Answer answer = { -1, NULL };
        /* An error (invalid regex, unknown method of an older daemon …): the Node CLI asks again and says it. */
        if (message.has_error || !message.result || !each_member(message.result, visit_result, &answer) || answer.exit_code < 0 || !answer.output) hand_over();
        long length_out = decode_base64((char *)answer.output);
        if (length_out < 0) hand_over();
        close(fd);
        write_all(answer.output, (size_t)length_out);
        return (int)answer.exit_code;
      }
      received.data[start + length] = saved;
      consumed = start + length;
    }
    long left = deadline - now_ms();
    struct pollfd ready = { fd, POLLIN, 0 };
    int polled = left > 0 ? poll(&ready, 1, (int)(left > 1000000000L ? 1000000000L : left)) : 0;
    if (polled < 0 && errno == EINTR) continue;
    if (polled <= 0) {
      /* The Node CLI goes on waiting and tells the user the daemon is busy, counting the time waited here. */
      char waited[32];
      snprintf(waited, sizeof waited, "%ld", now_ms() - started);
      setenv("CODELOOP_WAITED_MS", waited, 1);
      hand_over();
    }
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) hand_over();
    append(&received, chunk, (size_t)n);
  }
}
