/** Every `ipa` command by the words that name it; `ipa --help` lists them in this order. */
import type { Command } from "./command.ts";
import * as admin from "./commands/admin.ts";
import * as agents from "./commands/agents.ts";
import * as bulk from "./commands/bulk.ts";
import * as channels from "./commands/channels.ts";
import * as executions from "./commands/executions.ts";
import * as session from "./commands/session.ts";
import * as workflows from "./commands/workflows.ts";

export const COMMANDS: Record<string, Command> = {
  login: session.login,
  logout: session.logout,
  whoami: session.whoami,
  "workflows list": workflows.list,
  "workflows apply": workflows.apply,
  "workflows versions": workflows.versions,
  "workflows webhook-secret": workflows.webhookSecret,
  "agents list": agents.list,
  "agents apply": agents.apply,
  run: executions.run,
  "executions list": executions.list,
  "executions show": executions.show,
  "executions logs": executions.logs,
  "executions watch": executions.watchCommand,
  "executions cancel": executions.control("cancel"),
  "executions pause": executions.control("pause"),
  "executions resume": executions.control("resume"),
  "executions retry": executions.control("retry"),
  "executions rerun": executions.rerun,
  "executions bulk": bulk.bulk,
  approve: executions.decision("approve"),
  reject: executions.decision("reject"),
  "events send": executions.sendEvent,
  "backups list": admin.backupsList,
  "backups start": admin.backupsStart,
  "backups verify": admin.backupsVerify,
  "secrets list": admin.secretsList,
  "secrets set": admin.secretsSet,
  "secrets delete": admin.secretsDelete,
  "channels list": channels.list,
  "channels create": channels.create,
  "channels enable": channels.enable,
  "channels delete": channels.remove,
  "channels deliveries": channels.deliveries,
};
