import { runCli } from '../../cli/program.js';

/** Runs `payhook <args>` in-process against the stack recorded in `dataDir`, capturing what a user would see. */
export async function runPayhook(dataDir: string, ...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['node', 'payhook', ...args], {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { PAYHOOK_DATA_DIR: dataDir },
  });
  return { code, stdout, stderr };
}
