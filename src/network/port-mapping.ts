/** One published port (-p), resolved: shared by the container record, the network helpers and the front ends. */
export interface PortMapping {
  hostIp: string
  hostPort: number
  containerPort: number
  protocol: 'tcp' | 'udp'
}
