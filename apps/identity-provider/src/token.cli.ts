// Prints an access token for a demo user (or a confidential client) of the local identity provider, and
// nothing else on stdout, so that `TOKEN=$(npm run -s token -- clinician)` works.
//
//   npm run -s token -- <role>               password grant for that role's demo user, client platform-cli
//   npm run -s token -- --client <clientId>  client_credentials for a confidential client
//
// IDP_URL (default http://127.0.0.1:8081/realms/nhs), IDP_DEMO_PASSWORD, IDP_CLIENT_SECRET_<CLIENT_ID>.
import {
  clientSecret,
  confidentialClients,
  DEFAULT_DEMO_PASSWORD,
  DEMO_USERS,
  findDemoClient,
  findDemoUser,
} from './demo-realm';
import {
  IdentityProviderUnreachableError,
  requestAccessToken,
  TokenRequestError,
  type TokenGrant,
} from './token-client';

const DEFAULT_IDP_URL = 'http://127.0.0.1:8081/realms/nhs';
const PUBLIC_CLIENT_ID = 'platform-cli';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

const USAGE = [
  'usage: npm run -s token -- <role>',
  '       npm run -s token -- --client <clientId>',
  `roles (demo users): ${DEMO_USERS.map((user) => user.username).join(', ')}`,
  `clients: ${confidentialClients()
    .map((client) => client.clientId)
    .join(', ')}`,
].join('\n');

class UsageError extends Error {}

function grantFor(args: readonly string[], env: NodeJS.ProcessEnv): TokenGrant {
  if (args.length === 2 && args[0] === '--client') {
    const clientId = args[1] ?? '';
    const client = findDemoClient(clientId);
    if (client?.type !== 'confidential') {
      const valid = confidentialClients().map((candidate) => candidate.clientId);
      throw new UsageError(`unknown client '${clientId}'; valid clients: ${valid.join(', ')}`);
    }
    return { grantType: 'client_credentials', clientId, clientSecret: clientSecret(client, env) };
  }
  if (args.length === 1 && args[0] !== undefined && !args[0].startsWith('-')) {
    const user = findDemoUser(args[0]);
    if (!user) {
      const valid = DEMO_USERS.map((candidate) => candidate.username);
      throw new UsageError(`unknown role '${args[0]}'; valid roles: ${valid.join(', ')}`);
    }
    const password = env['IDP_DEMO_PASSWORD'] || DEFAULT_DEMO_PASSWORD;
    return { grantType: 'password', clientId: PUBLIC_CLIENT_ID, username: user.username, password };
  }
  throw new UsageError(USAGE);
}

async function main(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  let grant: TokenGrant;
  try {
    grant = grantFor(args, env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return EXIT_USAGE;
  }

  const url = env['IDP_URL'] || DEFAULT_IDP_URL;
  try {
    const token = await requestAccessToken(url, grant);
    process.stdout.write(`${token}\n`);
    return 0;
  } catch (error) {
    if (error instanceof IdentityProviderUnreachableError) {
      process.stderr.write(`${error.message}: start the platform with \`npm start\`\n`);
    } else if (error instanceof TokenRequestError) {
      process.stderr.write(`identity provider at ${url} refused the token request: ${error.message}\n`);
    } else {
      throw error;
    }
    return EXIT_FAILED;
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`token: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT_FAILED;
  },
);
