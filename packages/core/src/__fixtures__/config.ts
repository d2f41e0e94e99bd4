/** The smallest config a backup host can have: the required keys only, for the config tests. */
export const MINIMAL = `
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data", "/srv/home"]
[s3]
bucket = "my-backups"
region = "eu-central-1"
prefix = "host1"
`;
