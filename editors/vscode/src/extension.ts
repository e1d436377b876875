// The proviso extension's client: starts `proviso lsp` (the executable
// named by the `proviso.path` setting) over standard input and output for
// every `.proviso` file, and restarts it when the setting changes.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverOptions(): ServerOptions {
  const command = vscode.workspace.getConfiguration("proviso").get<string>("path") || "proviso";
  // TransportKind.stdio: the client adds `--stdio`, which `proviso lsp` accepts.
  return {
    run: { command, args: ["lsp"], transport: TransportKind.stdio },
    debug: { command, args: ["lsp"], transport: TransportKind.stdio },
  };
}

async function start(): Promise<void> {
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ scheme: "file", language: "proviso" }, { scheme: "untitled", language: "proviso" }],
    synchronize: {
      // Rule files changed on disk (another file of the rule set) are read again.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.proviso"),
    },
  };
  client = new LanguageClient("proviso", "proviso", serverOptions(), clientOptions);
  try {
    await client.start();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `proviso: could not start \`proviso lsp\` (${String(e)}). Set "proviso.path" to the proviso executable.`
    );
  }
}

async function restart(): Promise<void> {
  if (client) {
    await client.stop();
    client = undefined;
  }
  await start();
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  context.subscriptions.push(
    vscode.commands.registerCommand("proviso.restartServer", restart),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration("proviso.path")) {
        void restart();
      }
    })
  );
  await start();
}

export async function deactivate(): Promise<void> {
  if (client) {
    await client.stop();
  }
}
