// PostGraphile's configuration in make bench: the Amber preset as shipped, except that
// conditions and orderBy are offered on every column (not only indexed ones), so that
// its list query can filter and order exactly as the hub's does. The database, schema,
// host and port come from the command line (bench/speed.py).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export default {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
};
