import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { CredentialsProviderError, chain } from '@smithy/core/config';

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
 * Same contract as the SDK's `defaultProvider` (its `memoizeChain`): credentials are kept per client; ones that carry
 * an expiry are fetched again in the background once they are within five minutes of it, the kept ones still served
 * meanwhile (a failed refresh is ignored while they are valid); expired ones are fetched before anything is served;
 * `forceRefresh` fetches at once.
 */
export const defaultProvider = (init: Parameters<typeof fromHttp>[0] = {}): AwsCredentialIdentityProvider =>
  memoizeChain(chain(fromEnv(init), fromContainer(init), noCredentials));

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

/** As the SDK's: credentials with an expiry are refreshed five minutes before it. */
const REFRESH_BEFORE_EXPIRY_MS = 300_000;

export const credentialsWillNeedRefresh = (credentials: AwsCredentialIdentity): boolean =>
  credentials.expiration !== undefined &&
  credentials.expiration.getTime() - Date.now() < REFRESH_BEFORE_EXPIRY_MS;

/** The SDK's `memoizeChain` semantics over one chain (see {@link defaultProvider}). */
export function memoizeChain(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let credentials: AwsCredentialIdentity | undefined;
  let fetching: Promise<AwsCredentialIdentity> | undefined;
  const fetch = (properties: Parameters<AwsCredentialIdentityProvider>[0]) => {
    fetching ??= provider(properties)
      .then((fetched) => {
        credentials = fetched;
        return fetched;
      })
      .finally(() => {
        fetching = undefined;
      });
    return fetching;
  };
  return async (properties) => {
    if (credentials?.expiration && credentials.expiration.getTime() <= Date.now()) credentials = undefined;
    if ((properties as { forceRefresh?: boolean } | undefined)?.forceRefresh || !credentials)
      return fetch(properties);
    if (credentialsWillNeedRefresh(credentials)) {
      // In the background: the kept credentials are still valid for minutes, and serve this call.
      fetch(properties).catch(() => undefined);
    }
    return credentials;
  };
}
