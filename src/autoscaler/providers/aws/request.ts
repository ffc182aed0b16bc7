// Pure mapping from a launch request and the resource's AWS launch settings to RunInstances input.
// No I/O here, so the request shape is tested exhaustively without a cloud.
import type { ResourceType, RunInstancesCommandInput, Tag, TagSpecification, _InstanceType } from '@aws-sdk/client-ec2';
import type { LaunchRequest } from '../types.js';
import { deepMerge } from '../merge.js';
import type { AwsLaunch } from './settings.js';

/** Where the offering's zone sends the instance: a subnet id, or an AZ (mapped to a subnet when one is set). */
export function placementOf(zone: string | undefined, launch: AwsLaunch): { subnetId?: string; az?: string } {
  if (!zone) return {};
  if (zone.startsWith('subnet-')) return { subnetId: zone };
  const subnetId = launch.subnets[zone];
  return subnetId ? { subnetId } : { az: zone };
}

function toTags(tags: Record<string, string>): Tag[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Our tag specifications, plus the overlay's: same resource type merges tags (ours win), others are kept. */
function mergeTagSpecs(ours: TagSpecification[], overlay: unknown): TagSpecification[] {
  const extra = Array.isArray(overlay) ? (overlay as TagSpecification[]) : [];
  const merged = ours.map((spec) => {
    const same = extra.find((e) => e.ResourceType === spec.ResourceType);
    if (!same?.Tags) return spec;
    const keys = new Set(spec.Tags?.map((t) => t.Key));
    return { ...spec, Tags: [...same.Tags.filter((t) => !keys.has(t.Key)), ...(spec.Tags ?? [])] };
  });
  const rest = extra.filter((e) => !ours.some((o) => o.ResourceType === e.ResourceType));
  return [...merged, ...rest];
}

function securityGroups(launch: AwsLaunch): Partial<RunInstancesCommandInput> {
  const ids = launch.securityGroups.filter((g) => g.startsWith('sg-'));
  const names = launch.securityGroups.filter((g) => !g.startsWith('sg-'));
  return {
    ...(ids.length ? { SecurityGroupIds: ids } : {}),
    ...(names.length ? { SecurityGroups: names } : {}),
  };
}

function rootVolume(launch: AwsLaunch): Partial<RunInstancesCommandInput> {
  const v = launch.rootVolume;
  if (!v || (v.sizeGb === undefined && !v.type && !v.snapshotId)) return {};
  const ebs = {
    DeleteOnTermination: true,
    ...(v.sizeGb !== undefined ? { VolumeSize: v.sizeGb } : {}),
    ...(v.type ? { VolumeType: v.type } : {}),
    ...(v.snapshotId ? { SnapshotId: v.snapshotId } : {}),
  };
  return { BlockDeviceMappings: [{ DeviceName: v.deviceName, Ebs: ebs }] };
}

function iamProfile(name: string | undefined): Partial<RunInstancesCommandInput> {
  if (!name) return {};
  return { IamInstanceProfile: name.startsWith('arn:') ? { Arn: name } : { Name: name } };
}

const spotMarket = {
  MarketType: 'spot',
  SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate' },
} as const;

/** The RunInstances input for one launch. The invariants (token, one instance, our tags) are applied last. */
export function buildRunInstancesInput(req: LaunchRequest, launch: AwsLaunch): RunInstancesCommandInput {
  const { subnetId, az } = placementOf(req.offering.zone, launch);
  const spot = req.offering.market === 'spot';
  const tags = toTags({ ...launch.extraTags, ...req.tags });
  const resourceTypes: ResourceType[] = ['instance', 'volume', ...(spot ? (['spot-instances-request'] as const) : [])];
  const tagSpecs: TagSpecification[] = resourceTypes.map((ResourceType) => ({ ResourceType, Tags: tags }));
  const base: RunInstancesCommandInput = {
    ImageId: launch.ami,
    InstanceType: req.offering.instanceType as _InstanceType,
    MinCount: 1,
    MaxCount: 1,
    UserData: Buffer.from(req.startupScript, 'utf8').toString('base64'),
    InstanceInitiatedShutdownBehavior: 'terminate',
    ...(subnetId ? { SubnetId: subnetId } : {}),
    ...(az ? { Placement: { AvailabilityZone: az } } : {}),
    ...(spot ? { InstanceMarketOptions: spotMarket } : {}),
    ...(launch.keyName ? { KeyName: launch.keyName } : {}),
    ...securityGroups(launch),
    ...iamProfile(launch.iamInstanceProfile),
    ...rootVolume(launch),
  };
  const merged = deepMerge({ ...base }, launch.overlay) as unknown as RunInstancesCommandInput;
  return {
    ...merged,
    MinCount: 1,
    MaxCount: 1,
    ClientToken: req.clientToken,
    TagSpecifications: mergeTagSpecs(tagSpecs, launch.overlay.TagSpecifications),
  };
}
