import { runCli } from '../../cli/program.js';

/** Runs `payhook <args>` in-process against the stack recorded in `dataDir`, capturing what a user would see. */
export function runPayhook(dataDir: string, ...args: string[]) {
  return runPayhookWith({ PAYHOOK_DATA_DIR: dataDir }, ...args);
}

/** Runs `payhook <args>` in-process with exactly this environment, capturing what a user would see. */
export async function runPayhookWith(env: Readonly<Record<string, string>>, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'payhook', ...args], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}
