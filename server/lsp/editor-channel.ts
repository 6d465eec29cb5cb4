import {
  LogMessageNotification, MessageType, ShowMessageNotification,
  type ClientCapabilities, type Connection, type WorkspaceEdit,
} from 'vscode-languageserver';

/** How loudly a message is said: `window/showMessage` types (a `log` goes to `window/logMessage` only). */
export type Severity = 'error' | 'warning' | 'info' | 'log';

/** One work-done progress (`$/progress`) in an editor; every call is a no-op once the editor has gone. */
export interface EditorProgress {
  /** `percentage` 0–100. */
  report(message: string, percentage?: number): void;
  done(): void;
}

/** The start of a progress: its title, first message and percentage, and whether the editor offers to cancel. */
export interface ProgressStart {
  title: string;
  message?: string;
  percentage?: number;
  cancellable?: boolean;
}

/** What the editor answered to `workspace/applyEdit`. */
export interface ApplyEditResult {
  applied: boolean;
  failureReason?: string;
}

/**
 * Everything the server says to one editor, and nothing else: features and the session follower talk to the
 * editor only through this, so they can be tested with the in-process fake (test/helpers/fake-editor.ts).
 * Nothing here throws because the editor went away: once it has, messages are dropped and requests answer
 * "not applied" / "not shown".
 */
export interface EditorChannel {
  /** `workspace/applyEdit`; `label` is shown by editors that keep an undo history of edits. */
  applyEdit(label: string, edit: WorkspaceEdit): Promise<ApplyEditResult>;
  /** `window/workDoneProgress/create` then `$/progress` begin; a silent progress when the editor lacks them. */
  beginProgress(start: ProgressStart): Promise<EditorProgress>;
  /** `window/showDocument` with focus; false when the editor refused or could not be asked. */
  showDocument(uri: string): Promise<boolean>;
  /** `window/showMessage` (a `log` severity: `window/logMessage`), headed `codeloop: `. */
  showMessage(severity: Severity, text: string): void;
  /** Any other notification (`codeloop/sessionUpdate`, `codeloop/indexUpdate`). */
  notify(method: string, params: unknown): void;
}

/** The text the user reads for a message: every message says it comes from codeloop. */
export function messageText(text: string): string {
  return `codeloop: ${text}`;
}

const MESSAGE_TYPE: Record<Exclude<Severity, 'log'>, MessageType> = { error: MessageType.Error, warning: MessageType.Warning, info: MessageType.Info };

/** Runs a send to an editor that may have gone: a closed connection throws, and there is nobody left to tell. */
function quietly(send: () => unknown): void {
  try {
    const sent = send();
    if (sent instanceof Promise) sent.catch(() => undefined);
  } catch {
    // the editor went away
  }
}

const SILENT_PROGRESS: EditorProgress = { report: () => undefined, done: () => undefined };

/**
 * The EditorChannel over a vscode-languageserver `Connection`. `capabilities` are the client's from `initialize`
 * (progress only when it advertised `window.workDoneProgress`); `gone` says the connection was disposed.
 */
export class ConnectionEditorChannel implements EditorChannel {
  capabilities: ClientCapabilities = {};

  constructor(private readonly connection: Connection, private readonly gone: () => boolean) {}

  async applyEdit(label: string, edit: WorkspaceEdit): Promise<ApplyEditResult> {
    if (this.gone()) return { applied: false, failureReason: 'the editor has disconnected' };
    const result = await this.connection.workspace.applyEdit({ label, edit });
    return { applied: result.applied, failureReason: result.failureReason };
  }

  async beginProgress(start: ProgressStart): Promise<EditorProgress> {
    if (this.gone() || this.capabilities.window?.workDoneProgress !== true) return SILENT_PROGRESS;
    const progress = await this.connection.window.createWorkDoneProgress().catch(() => null);
    if (!progress) return SILENT_PROGRESS;
    const send = (what: () => void) => {
      if (!this.gone()) quietly(what);
    };
    send(() => progress.begin(start.title, start.percentage, start.message, start.cancellable));
    return {
      report: (message, percentage) => send(() => (percentage === undefined ? progress.report(message) : progress.report(percentage, message))),
      done: () => send(() => progress.done()),
    };
  }

  async showDocument(uri: string): Promise<boolean> {
    if (this.gone()) return false;
    const result = await this.connection.window.showDocument({ uri, takeFocus: true }).catch(() => null);
    return result?.success === true;
  }

  /**
   * As notifications: the library's showXMessage helpers send `showMessageRequest`, which Helix lacks and Neovim
   * turns into a prompt.
   */
  showMessage(severity: Severity, text: string): void {
    if (this.gone()) return;
    const message = messageText(text);
    quietly(() => (severity === 'log'
      ? this.connection.sendNotification(LogMessageNotification.type, { type: MessageType.Info, message })
      : this.connection.sendNotification(ShowMessageNotification.type, { type: MESSAGE_TYPE[severity], message })));
  }

  notify(method: string, params: unknown): void {
    if (!this.gone()) quietly(() => this.connection.sendNotification(method, params));
  }
}
