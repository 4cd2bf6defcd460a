/** Registers the long-running commands (daemon, tail). Filled in by the daemon work (issue #4). */
import type { Command } from 'commander';
import type { Config } from '../config/index.js';

export type ConfigLoader = (path: string | undefined) => { config: Config; label: string };

export function registerDaemonCommands(_program: Command, _configFrom: ConfigLoader): void {}
