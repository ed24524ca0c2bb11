import type { ClientRole } from './client-settings.js';
import { AwsClients } from './clients.js';
import { ExecutionEnvironment } from './execution-environment.js';

export type { ContainerOptions } from './execution-environment.js';

/**
 * An {@link ExecutionEnvironment} whose client sets have every service's accessor as a method
 * (`container.clients('consumer').documents()`): for the local stack, tests and tools, which host or inspect every
 * function at once. A Lambda handler module makes a plain `ExecutionEnvironment`, so that its bundle holds only the
 * client packages its own composition uses.
 */
export class Container extends ExecutionEnvironment {
  override clients(role: ClientRole): AwsClients {
    return super.clients(role) as AwsClients;
  }

  protected override newClientSet(role: ClientRole): AwsClients {
    return new AwsClients(role, this.env, this.options);
  }
}
