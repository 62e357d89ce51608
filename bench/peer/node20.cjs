// PostGraphile 5 asks for Node 22 (engines); on Node 20 its server only lacks
// Promise.withResolvers (ES2024), defined here as the standard specifies it.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
