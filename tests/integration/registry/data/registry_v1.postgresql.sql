-- A gpve.cluster registry as schema version 1 left it (postgresql), with data.
-- Frozen test data for the migration test: never regenerate from newer code.
-- Credentials are sealed with the test key in test_registry_migration.py.
CREATE TABLE schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE clusters (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    type VARCHAR(32) NOT NULL,
    provider VARCHAR(64),
    labels JSONB NOT NULL DEFAULT '{}',
    annotations JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    deleted_at TIMESTAMPTZ,
    CONSTRAINT valid_type CHECK (type IN ('vcluster', 'k8s-vm', 'external', 'cluster-api'))
);
CREATE INDEX idx_clusters_type ON clusters(type);
CREATE INDEX idx_clusters_labels ON clusters USING GIN(labels);
CREATE INDEX idx_clusters_deleted_at ON clusters(deleted_at);
CREATE TABLE vcluster_specs (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    kubernetes_version VARCHAR(32) NOT NULL,
    isolation_mode VARCHAR(32) NOT NULL,
    control_plane JSONB,
    networking JSONB,
    storage JSONB,
    resources JSONB,
    sync_config JSONB,
    plugins JSONB,
    extra JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT valid_isolation CHECK (isolation_mode IN ('namespace', 'container', 'microvm', 'vm'))
);
CREATE TABLE k8s_vm_specs (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    distribution VARCHAR(32) NOT NULL,
    kubernetes_version VARCHAR(32) NOT NULL,
    topology JSONB,
    control_plane JSONB,
    workers JSONB,
    networking JSONB,
    storage JSONB,
    load_balancer JSONB,
    addons JSONB,
    security JSONB,
    extra JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT valid_distribution CHECK (distribution IN ('kubeadm', 'k3s', 'k0s', 'rke2', 'talos'))
);
CREATE TABLE external_cluster_specs (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    endpoint VARCHAR(512) NOT NULL,
    connection_config JSONB,
    monitoring_config JSONB,
    extra JSONB NOT NULL DEFAULT '{}'
);
CREATE TABLE cluster_status (
    cluster_id VARCHAR(64) PRIMARY KEY REFERENCES clusters(id) ON DELETE CASCADE,
    phase VARCHAR(32) NOT NULL,
    message TEXT,
    endpoint VARCHAR(512),
    version VARCHAR(32),
    node_count INTEGER NOT NULL DEFAULT 0,
    ready_nodes INTEGER NOT NULL DEFAULT 0,
    pod_count INTEGER NOT NULL DEFAULT 0,
    conditions JSONB NOT NULL DEFAULT '[]',
    resources JSONB NOT NULL DEFAULT '{}',
    last_heartbeat TIMESTAMPTZ,
    ready_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_cluster_status_phase ON cluster_status(phase);
CREATE TABLE cluster_credentials (
    id VARCHAR(64) PRIMARY KEY,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    data_encrypted BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX idx_credentials_cluster ON cluster_credentials(cluster_id);
CREATE TABLE cluster_nodes (
    id VARCHAR(64) PRIMARY KEY,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    vmid VARCHAR(32),
    name VARCHAR(255) NOT NULL,
    role VARCHAR(32) NOT NULL,
    pool_name VARCHAR(64),
    ip_address VARCHAR(45),
    status VARCHAR(32) NOT NULL,
    labels JSONB NOT NULL DEFAULT '{}',
    taints JSONB NOT NULL DEFAULT '[]',
    resources JSONB NOT NULL DEFAULT '{}',
    conditions JSONB NOT NULL DEFAULT '[]',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (cluster_id, name)
);
CREATE INDEX idx_nodes_cluster ON cluster_nodes(cluster_id);
CREATE INDEX idx_nodes_role ON cluster_nodes(role);
CREATE INDEX idx_nodes_status ON cluster_nodes(status);
CREATE TABLE cluster_events (
    seq BIGSERIAL PRIMARY KEY,
    id VARCHAR(64) NOT NULL UNIQUE,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    reason VARCHAR(64),
    message TEXT,
    metadata JSONB NOT NULL DEFAULT '{}',
    timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_events_cluster ON cluster_events(cluster_id, seq);
CREATE TABLE cluster_backups (
    id VARCHAR(64) PRIMARY KEY,
    cluster_id VARCHAR(64) NOT NULL REFERENCES clusters(id) ON DELETE CASCADE,
    type VARCHAR(32) NOT NULL,
    status VARCHAR(32) NOT NULL,
    storage_location VARCHAR(512),
    size_bytes BIGINT,
    started_at TIMESTAMPTZ,
    completed_at TIMESTAMPTZ,
    expires_at TIMESTAMPTZ,
    metadata JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_backups_cluster ON cluster_backups(cluster_id);
CREATE INDEX idx_backups_status ON cluster_backups(status);
CREATE TABLE vm_templates (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    os_type VARCHAR(32) NOT NULL,
    os_version VARCHAR(32),
    default_resources JSONB NOT NULL,
    cloud_init_template TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE cluster_templates (
    id VARCHAR(64) PRIMARY KEY,
    name VARCHAR(255) NOT NULL UNIQUE,
    type VARCHAR(32) NOT NULL,
    description TEXT,
    spec_template JSONB NOT NULL,
    default_values JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

INSERT INTO schema_version (version, description, applied_at) VALUES (1, 'seed data model', '2025-01-01T00:00:00+00:00');
INSERT INTO clusters (id, name, type, provider, labels, annotations, created_at, updated_at, deleted_at) VALUES ('c1000000000000000000000000000000', 'legacy-vm', 'k8s-vm', 'proxmox', '{"env":"prod"}', '{"owner":"ops"}', '2025-01-01T00:00:00+00:00', '2025-03-01T12:00:00+00:00', NULL);
INSERT INTO clusters (id, name, type, provider, labels, annotations, created_at, updated_at, deleted_at) VALUES ('c2000000000000000000000000000000', 'legacy-ext', 'external', NULL, '{}', '{}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00', NULL);
INSERT INTO clusters (id, name, type, provider, labels, annotations, created_at, updated_at, deleted_at) VALUES ('c3000000000000000000000000000000', 'legacy-gone', 'vcluster', NULL, '{}', '{}', '2025-01-01T00:00:00+00:00', '2025-04-01T00:00:00+00:00', '2025-04-01T00:00:00+00:00');
INSERT INTO k8s_vm_specs (cluster_id, distribution, kubernetes_version, control_plane, workers, extra) VALUES ('c1000000000000000000000000000000', 'k3s', '1.28.4', '{"count":3}', '[{"count":2,"name":"general"}]', '{"proxmox":{"node":"pve1"}}');
INSERT INTO external_cluster_specs (cluster_id, endpoint, connection_config, extra) VALUES ('c2000000000000000000000000000000', 'https://10.9.0.1:6443', '{"timeout":10}', '{}');
INSERT INTO vcluster_specs (cluster_id, kubernetes_version, isolation_mode, extra) VALUES ('c3000000000000000000000000000000', '1.29.0', 'namespace', '{}');
INSERT INTO cluster_status (cluster_id, phase, message, endpoint, version, node_count, ready_nodes, conditions, updated_at) VALUES ('c1000000000000000000000000000000', 'Running', 'all good', 'https://10.0.0.10:6443', 'v1.28.4+k3s1', 3, 3, '[{"status":"True","type":"Ready"}]', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_status (cluster_id, phase, message, endpoint, version, node_count, ready_nodes, conditions, updated_at) VALUES ('c2000000000000000000000000000000', 'Running', NULL, 'https://10.9.0.1:6443', 'v1.27.0', 1, 1, '[]', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_status (cluster_id, phase, message, endpoint, version, node_count, ready_nodes, conditions, updated_at) VALUES ('c3000000000000000000000000000000', 'Deleted', 'gone', NULL, NULL, 0, 0, '[]', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_nodes (id, cluster_id, vmid, name, role, ip_address, status, labels, created_at, updated_at) VALUES ('n0000000000000000000000000000000', 'c1000000000000000000000000000000', '201', 'cp-1', 'control-plane', '10.0.0.11', 'Ready', '{"zone":"a"}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_nodes (id, cluster_id, vmid, name, role, ip_address, status, labels, created_at, updated_at) VALUES ('n1000000000000000000000000000000', 'c1000000000000000000000000000000', '202', 'w-1', 'worker', '10.0.0.12', 'Ready', '{"zone":"a"}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_nodes (id, cluster_id, vmid, name, role, ip_address, status, labels, created_at, updated_at) VALUES ('n2000000000000000000000000000000', 'c1000000000000000000000000000000', '203', 'w-2', 'worker', '10.0.0.13', 'Ready', '{"zone":"a"}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_events (id, cluster_id, type, reason, message, metadata, timestamp) VALUES ('e1000000000000000000000000000000', 'c1000000000000000000000000000000', 'Normal', 'Created', 'created', '{}', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_events (id, cluster_id, type, reason, message, metadata, timestamp) VALUES ('e2000000000000000000000000000000', 'c1000000000000000000000000000000', 'Normal', 'Ready', 'cluster ready', '{"nodes":3}', '2025-01-01T00:10:00+00:00');
INSERT INTO cluster_credentials (id, cluster_id, type, data_encrypted, created_at, updated_at) VALUES ('k1000000000000000000000000000000', 'c1000000000000000000000000000000', 'kubeconfig', '\x01315a27648cc830ca8065c0bfbfe009c5625bebc9f80680d894beb8bdb8634d95e1b2a23fe1d9a9b1b341a6cd8e6db3f485'::bytea, '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_credentials (id, cluster_id, type, data_encrypted, created_at, updated_at) VALUES ('k2000000000000000000000000000000', 'c1000000000000000000000000000000', 'kubeconfig', '\x01315a27648cc830cab61517a0b25fa54ccebd1e288511153a82fe034abfb35d3b182d36ffe7d91a9f6fdb2acd9a859796cf'::bytea, '2025-02-01T00:00:00+00:00', '2025-02-01T00:00:00+00:00');
INSERT INTO cluster_credentials (id, cluster_id, type, data_encrypted, created_at, updated_at) VALUES ('k3000000000000000000000000000000', 'c2000000000000000000000000000000', 'token', '\x01315a27648cc830ca6bdffbb4584a27c1df4ced35a8f1dd766ccb72c89b3eb1dd2b8a2c1f61ac751e76bf37d8619be8f05156255847759b'::bytea, '2025-01-15T00:00:00+00:00', '2025-01-15T00:00:00+00:00');
INSERT INTO cluster_backups (id, cluster_id, type, status, storage_location, size_bytes, metadata, created_at, updated_at) VALUES ('b1000000000000000000000000000000', 'c1000000000000000000000000000000', 'etcd', 'Completed', 's3://backups/legacy-vm/1', 123456789, '{"snapshot":"etcd-1"}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO vm_templates (id, name, os_type, os_version, default_resources, created_at, updated_at) VALUES ('t1000000000000000000000000000000', 'ubuntu-22.04-k8s', 'linux', '22.04', '{"cores":2,"memory":4096}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
INSERT INTO cluster_templates (id, name, type, description, spec_template, default_values, created_at, updated_at) VALUES ('t2000000000000000000000000000000', 'small', 'k8s-vm', 'one worker', '{"workers":[{"count":1}]}', '{}', '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00');
