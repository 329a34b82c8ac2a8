/** A subcommand of `autoglm`: one file under cli/commands/ exports one of these as `command`. */
export interface Command {
  /** The word typed after `autoglm`. */
  name: string;
  /** One line for `autoglm --help`. */
  summary: string;
  /** The full help text, printed by `autoglm <name> --help`. */
  help: string;
  /** True when the command has subcommands of its own and handles --help itself. */
  dispatches?: boolean;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
