// Apollo Client, as the front-ends use it, against a running hub.
// Usage: node apollo.mjs http://127.0.0.1:PORT <demo password>
//
// A resident signs in and submits a case; the receptionist reads it through two
// different queries (case(number) and node(id)) and accepts it with a mutation, while
// the resident follows it over graphql-transport-ws. Prints one JSON object of what
// each client saw (the pytest side asserts on it) and exits 1 on any error.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error("usage: node apollo.mjs <hub base URL> <demo password>");
  process.exit(2);
}
const WAIT_MS = 15000;
const DISABILITY_CARD = "12140702MB000000062000700400100"; // 残疾人证 at 榆次区

// Apollo's cache warnings (e.g. "Cache data may be lost when replacing…") are part of
// what the test reports: an object type without an id that a client must merge
const warnings = [];
for (const level of ["warn", "error"]) {
  const original = console[level];
  console[level] = (...args) => {
    warnings.push(args.map(String).join(" "));
    original(...args);
  };
}

const LOGIN = gql`
  mutation Login($username: String!, $password: String!, $channel: Channel!) {
    login(input: { username: $username, password: $password, channel: $channel }) {
      accessToken
      errors { code }
    }
  }
`;
const MATERIALS = gql`
  query Materials {
    matterImplementations(
      filter: { basicCode: "000700400100", divisionCode: "140702000000", level: COUNTY }
    ) {
      edges { node { id materials { name } } }
    }
  }
`;
const SUBMIT = gql`
  mutation Submit($input: SubmitCaseInput!) {
    submitCase(input: $input) { case { id number status } errors { code } }
  }
`;
const CASE = gql`
  query Case($number: String!) {
    case(number: $number) { id number status }
  }
`;
const NODE = gql`
  query Node($id: ID!) {
    node(id: $id) { id ... on Case { number status } }
  }
`;
const ACCEPT = gql`
  mutation Accept($number: String!) {
    acceptCase(input: { number: $number }) { case { id status } errors { code } }
  }
`;
const FOLLOW = gql`
  subscription Follow($number: String!) {
    caseUpdated(number: $number) { id number status }
  }
`;

function client(token) {
  const http = new HttpLink({
    uri: `${base}/graphql`,
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });
  if (!token) return new ApolloClient({ link: http, cache: new InMemoryCache() });
  const ws = new GraphQLWsLink(
    createClient({
      url: `${base.replace(/^http/, "ws")}/graphql`,
      webSocketImpl: WebSocket,
      // browsers cannot set headers on a WebSocket: the token goes in connection_init
      connectionParams: { Authorization: `Bearer ${token}` },
      lazy: true,
    }),
  );
  const link = ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === "OperationDefinition" && definition.operation === "subscription";
    },
    ws,
    http,
  );
  return new ApolloClient({ link, cache: new InMemoryCache() });
}

async function signIn(username, channel) {
  const anonymous = client(null);
  const { data } = await anonymous.mutate({
    mutation: LOGIN,
    variables: { username, password, channel },
  });
  if (data.login.errors.length) throw new Error(`${username}: ${JSON.stringify(data.login.errors)}`);
  return data.login.accessToken;
}

function within(promise, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no ${what} in time`)), WAIT_MS)),
  ]);
}

const report = { warnings };
const resident = client(await signIn("resident1", "MOBILE"));
const staff = client(await signIn("yuci.receptionist", "COUNTER"));

// the resident submits a case
const materials = (await resident.query({ query: MATERIALS })).data.matterImplementations.edges[0]
  .node.materials.map((m, i) => ({ name: m.name, source: "FILE", reference: `file-${i}` }));
const submitted = (
  await resident.mutate({
    mutation: SUBMIT,
    variables: { input: { implementationCode: DISABILITY_CARD, channel: "MOBILE", materials } },
  })
).data.submitCase;
if (submitted.errors.length) throw new Error(`submitCase: ${JSON.stringify(submitted.errors)}`);
const { number, id } = submitted.case;
report.case = { number, id, status: submitted.case.status };

// the resident follows it live; the first event is the case as it is now
const events = [];
let first;
let second;
const arrived = [new Promise((r) => (first = r)), new Promise((r) => (second = r))];
const subscription = resident.subscribe({ query: FOLLOW, variables: { number } }).subscribe({
  next: (result) => {
    if (result.error) throw result.error;
    events.push(result.data.caseUpdated);
    (events.length === 1 ? first : second)();
  },
  error: (error) => {
    report.subscriptionError = String(error);
    first();
    second();
  },
});
await within(arrived[0], "first subscription event");

// the receptionist reads the same case through two queries: one cache entry
const byNumber = (await staff.query({ query: CASE, variables: { number } })).data.case;
const byNode = (await staff.query({ query: NODE, variables: { id } })).data.node;
const key = staff.cache.identify({ __typename: "Case", id });
const cacheKeys = Object.keys(staff.cache.extract()).filter((k) => k.startsWith("Case:"));
report.staffReads = { byNumber, byNode, key, caseEntries: cacheKeys };
report.rootRefs = {
  case: staff.cache.extract().ROOT_QUERY[`case({"number":"${number}"})`],
  node: staff.cache.extract().ROOT_QUERY[`node({"id":"${id}"})`],
};

// the mutation's result updates the cached object: both queries now read ACCEPTED from
// the cache, without asking the hub again
const accepted = (await staff.mutate({ mutation: ACCEPT, variables: { number } })).data.acceptCase;
if (accepted.errors.length) throw new Error(`acceptCase: ${JSON.stringify(accepted.errors)}`);
report.afterMutation = {
  byNumber: staff.readQuery({ query: CASE, variables: { number } }).case,
  byNode: staff.readQuery({ query: NODE, variables: { id } }).node,
  cacheOnly: (await staff.query({ query: CASE, variables: { number }, fetchPolicy: "cache-only" }))
    .data.case,
};

// and the resident's subscription receives the change the mutation made
await within(arrived[1], "second subscription event");
subscription.unsubscribe();
report.events = events;
report.residentCache = resident.cache.extract()[resident.cache.identify({ __typename: "Case", id })];

console.log(JSON.stringify(report));
resident.stop();
staff.stop();
process.exit(0);
