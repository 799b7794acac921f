/** What the guided session is started with (the `harden` command's options), and the seam to the UI. */
export interface HardenOptions {
  kubeconfig?: string;
  context?: string;
  preview: boolean;
  /** A profile name or file: its answers become the defaults. */
  profile?: string;
  /** Save the answers as this profile at the end (the one local write a --preview session makes). */
  saveProfile?: string;
  areas?: string[];
  namespaces?: string[];
  concurrency?: number;
  /** The API server's static-pod manifest, when kube-harden runs on the control-plane node. */
  apiserverManifest?: string;
  /** Seconds to follow rollouts before calling them failed. */
  rolloutTimeout?: number;
  /** Scan the images in use with the local trivy (slow). */
  scanImages?: boolean;
}

/** The terminal UI is injected by bin/ (the composition root): the core never imports screens/. */
export interface WizardLauncher {
  harden(opts: HardenOptions): Promise<number>;
}
