import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { CredentialsProviderError, chain, memoize } from '@smithy/core/config';

type AwsCredentialIdentityProvider = ReturnType<typeof fromEnv>;
type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

/**
 * The AWS SDK's default credential chain as a Lambda function can use it, put in place of
 * `@aws-sdk/credential-provider-node` by the functions' bundling only (`lib/payhook-function.ts`, an esbuild alias;
 * tests, the local stack and the tools keep the SDK's own chain).
 *
 * Why: Lambda hands a function its role's credentials in environment variables (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the chain's first link. The rest of the SDK's chain (SSO, shared
 * profile files, credential_process, web identity tokens, EC2 instance metadata) can never apply inside a Lambda
 * execution environment, yet each client bundle carried it: about 90 KB of every function's bundle (three nested
 * STS/SSO clients among it), a fifth of ingest's. The container endpoint (`AWS_CONTAINER_CREDENTIALS_*_URI`) stays as
 * the second link, as in the SDK's chain, should an execution environment ever deliver credentials that way.
 *
 * Same contract as the SDK's `defaultProvider`: memoized per client, fetched again shortly before credentials that
 * carry an expiry expire.
 */
export const defaultProvider = (init: Parameters<typeof fromHttp>[0] = {}): AwsCredentialIdentityProvider =>
  memoize(
    chain(fromEnv(init), fromContainer(init), noCredentials),
    credentialsTreatedAsExpired,
    credentialsWillNeedRefresh,
  );

/** The container credential endpoint, tried only where one is configured (`fromHttp` throws at once otherwise). */
function fromContainer(init: Parameters<typeof fromHttp>[0]): AwsCredentialIdentityProvider {
  return async (properties) => fromHttp(init)(properties);
}

async function noCredentials(): Promise<never> {
  throw new CredentialsProviderError(
    'Could not load credentials from the environment nor from a container credential endpoint',
    { tryNextLink: false },
  );
}

/** As the SDK's: credentials with an expiry are refreshed, five minutes before they expire. */
export const credentialsWillNeedRefresh = (credentials: AwsCredentialIdentity): boolean =>
  credentials.expiration !== undefined;

export const credentialsTreatedAsExpired = (credentials: AwsCredentialIdentity): boolean =>
  credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
