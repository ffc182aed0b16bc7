// Pure mapping from a launch request and the resource's GCP launch settings to the instance resource.
import type { protos } from '@google-cloud/compute';
import { deepMerge } from '../merge.js';
import type { LaunchRequest } from '../types.js';
import { instanceNameFor, labelValue } from './naming.js';
import type { GcpLaunch } from './settings.js';

type Instance = protos.google.cloud.compute.v1.IInstance;

/** Metadata key holding the exact flotilla tags (labels must be lower-case and short; tags may not be). */
export const TAGS_METADATA_KEY = 'flotilla-tags';

const zonal = (zone: string, kind: string, value: string) =>
  value.includes('/') ? value : `zones/${zone}/${kind}/${value}`;

function scheduling(req: LaunchRequest, launch: GcpLaunch): Instance['scheduling'] {
  const gpu = !!launch.accelerator;
  if (req.offering.market === 'spot')
    // DELETE on preemption: a reclaimed machine disappears instead of lingering stopped.
    return { provisioningModel: 'SPOT', instanceTerminationAction: 'DELETE', automaticRestart: false, onHostMaintenance: 'TERMINATE' };
  return { provisioningModel: 'STANDARD', automaticRestart: true, onHostMaintenance: gpu ? 'TERMINATE' : 'MIGRATE' };
}

function bootDisk(zone: string, launch: GcpLaunch): Instance['disks'] {
  const init = {
    sourceImage: launch.image,
    ...(launch.diskSizeGb ? { diskSizeGb: String(launch.diskSizeGb) } : {}),
    ...(launch.diskType ? { diskType: zonal(zone, 'diskTypes', launch.diskType) } : {}),
  };
  return [{ boot: true, autoDelete: true, initializeParams: init }];
}

function networkInterfaces(launch: GcpLaunch): Instance['networkInterfaces'] {
  return [
    {
      ...(launch.network ? { network: launch.network } : {}),
      ...(launch.subnetwork ? { subnetwork: launch.subnetwork } : {}),
      ...(launch.externalIp ? { accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] } : {}),
    },
  ];
}

function labels(req: LaunchRequest, launch: GcpLaunch): Record<string, string> {
  const ours = Object.fromEntries(Object.entries(req.tags).map(([k, v]) => [k, labelValue(v)]));
  return { ...launch.labels, ...ours };
}

function metadata(req: LaunchRequest, launch: GcpLaunch): Instance['metadata'] {
  const items = {
    ...launch.metadata,
    [TAGS_METADATA_KEY]: JSON.stringify(req.tags),
    'startup-script': req.startupScript,
  };
  return { items: Object.entries(items).map(([key, value]) => ({ key, value })) };
}

/** The instance resource for one launch in `zone`. Name, labels and start-up script are applied last. */
export function buildInstanceResource(req: LaunchRequest, launch: GcpLaunch, zone: string): Instance {
  const base: Instance = {
    machineType: zonal(zone, 'machineTypes', req.offering.instanceType),
    disks: bootDisk(zone, launch),
    networkInterfaces: networkInterfaces(launch),
    scheduling: scheduling(req, launch),
    ...(launch.accelerator
      ? {
          guestAccelerators: [
            { acceleratorType: zonal(zone, 'acceleratorTypes', launch.accelerator.type), acceleratorCount: launch.accelerator.count },
          ],
        }
      : {}),
    ...(launch.serviceAccount ? { serviceAccounts: [launch.serviceAccount] } : {}),
    ...(launch.networkTags.length ? { tags: { items: launch.networkTags } } : {}),
  };
  const merged = deepMerge({ ...base }, launch.overlay) as Instance;
  return {
    ...merged,
    name: instanceNameFor(req.clientToken),
    labels: { ...(merged.labels ?? {}), ...labels(req, launch) },
    metadata: metadata(req, launch),
  };
}
