// Whether a listen address is reachable only from this machine: 127.0.0.0/8, ::1 (in any
// spelling, also IPv4-mapped ::ffff:127.x.y.z) and the name "localhost". Anything else, including
// 0.0.0.0, :: and other host names, may be reachable from the network.
import { BlockList, isIP } from "node:net";

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

export function isLoopbackHost(host: string): boolean {
  const name = host.trim().toLowerCase();
  if (name === "localhost" || name === "localhost.") return true;
  const family = isIP(name);
  if (family === 0) return false;
  return LOOPBACK.check(name, family === 4 ? "ipv4" : "ipv6");
}
