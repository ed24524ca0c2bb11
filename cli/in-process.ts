import { runCli } from './program.js';

/**
 * Runs `payhook <args>` in this process with exactly this environment, capturing what a user would see: for the
 * tests, and for the soak's on-call engineer, who runs the same commands a person would.
 */
export async function runPayhookInProcess(env: Readonly<Record<string, string>>, ...args: string[]) {
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
