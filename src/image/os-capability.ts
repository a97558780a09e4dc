/**
 * Elevated Linux capabilities granted to the container inside the MicroVM.
 */
export enum OsCapability {
  /**
   * Every capability the service offers: mounts, FUSE, network namespaces, eBPF, nested containers. The effect
   * stays inside the MicroVM boundary, but code in the guest can do much more with it; `MicrovmChecks` warns.
   */
  ALL = 'ALL',
}
