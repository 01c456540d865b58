"""initial schema: regions, sites, cameras, users, events, rectifications, audit

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-25 09:20:00.480937
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


GENESIS_HASH = "0" * 64  # must match api.audit.GENESIS_HASH

revision: str = '0001_initial'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit_head = op.create_table('audit_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_head'))
    )
    op.create_table('regions',
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('level', sa.Enum('province', 'city', 'district', 'street', name='region_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_id', sa.Uuid(), nullable=True),
    sa.Column('path', sa.String(length=400), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['regions.id'], name=op.f('fk_regions_parent_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_regions')),
    sa.UniqueConstraint('path', name=op.f('uq_regions_path'))
    )
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_regions_parent_id'), ['parent_id'], unique=False)

    op.create_table('sites',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('school_canteen', 'restaurant', 'central_kitchen', name='site_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('licence_no', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('region_id', sa.Uuid(), nullable=False),
    sa.Column('work_start', sa.Time(), nullable=False),
    sa.Column('work_end', sa.Time(), nullable=False),
    sa.Column('public_display', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_sites_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('licence_no', name=op.f('uq_sites_licence_no'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_region_id'), ['region_id'], unique=False)

    op.create_table('cameras',
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('detect_url', sa.Text(), nullable=False),
    sa.Column('record_url', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_cameras_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cameras')),
    sa.UniqueConstraint('key', name=op.f('uq_cameras_key'))
    )
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cameras_site_id'), ['site_id'], unique=False)

    op.create_table('users',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'regulator', 'site_staff', 'public', name='user_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('region_id', sa.Uuid(), nullable=True),
    sa.Column('site_id', sa.Uuid(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'admin' AND region_id IS NULL AND site_id IS NULL) OR (role = 'regulator' AND region_id IS NOT NULL AND site_id IS NULL) OR (role = 'site_staff' AND site_id IS NOT NULL AND region_id IS NULL)", name=op.f('ck_users_role_scope')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_users_region_id_regions')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_users_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_site_id'), ['site_id'], unique=False)

    op.create_table('audit_entries',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_audit_entries_site_id_sites')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_site_id'), ['site_id'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('no_hat', 'no_mask', 'no_uniform', 'smoking', 'phone', 'rodent', 'cockroach', 'open_bin', 'stranger', 'camera_offline', 'camera_tampered', name='event_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('red', 'orange', 'yellow', name='event_severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('camera_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('x1', sa.Float(), nullable=False),
    sa.Column('y1', sa.Float(), nullable=False),
    sa.Column('x2', sa.Float(), nullable=False),
    sa.Column('y2', sa.Float(), nullable=False),
    sa.Column('model_version', sa.String(length=120), nullable=False),
    sa.Column('rule_version', sa.String(length=120), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'dismissed', name='event_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_events_camera_id_cameras')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_events_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_events_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_camera_started', ['camera_id', 'started_at'], unique=False)
        batch_op.create_index('ix_events_queue', ['site_id', 'status', 'started_at'], unique=False, postgresql_include=['severity', 'kind', 'id'])
        batch_op.create_index('ix_events_status_started', ['status', 'started_at'], unique=False)

    op.create_table('rule_overrides',
    sa.Column('camera_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('no_hat', 'no_mask', 'no_uniform', 'smoking', 'phone', 'rodent', 'cockroach', 'open_bin', 'stranger', 'camera_offline', 'camera_tampered', name='override_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('min_duration_s', sa.Float(), nullable=False),
    sa.Column('grace_s', sa.Float(), nullable=False),
    sa.Column('cooldown_s', sa.Float(), nullable=False),
    sa.Column('severity', sa.Enum('red', 'orange', 'yellow', name='override_severity', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_rule_overrides_camera_id_cameras'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_overrides')),
    sa.UniqueConstraint('camera_id', 'kind', name=op.f('uq_rule_overrides_camera_id_kind'))
    )
    with op.batch_alter_table('rule_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_overrides_camera_id'), ['camera_id'], unique=False)

    op.create_table('zones',
    sa.Column('camera_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('polygon', sa.JSON(), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('ignore_motion', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['cameras.id'], name=op.f('fk_zones_camera_id_cameras'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_zones')),
    sa.UniqueConstraint('camera_id', 'name', name=op.f('uq_zones_camera_id_name'))
    )
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zones_camera_id'), ['camera_id'], unique=False)

    op.create_table('event_media',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('clip', 'snapshot', name='media_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rel_path', sa.String(length=512), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_media_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_media')),
    sa.UniqueConstraint('event_id', 'kind', name=op.f('uq_event_media_event_id_kind'))
    )
    op.create_table('rectifications',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('ordered', 'submitted', 'accepted', 'rejected', name='rectification_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('instructions', sa.Text(), nullable=False),
    sa.Column('ordered_by_id', sa.Uuid(), nullable=False),
    sa.Column('ordered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reply_text', sa.Text(), nullable=True),
    sa.Column('submitted_by_id', sa.Uuid(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_result', sa.Text(), nullable=True),
    sa.Column('reviewed_by_id', sa.Uuid(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('responsible_region_id', sa.Uuid(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_rectifications_event_id_events')),
    sa.ForeignKeyConstraint(['ordered_by_id'], ['users.id'], name=op.f('fk_rectifications_ordered_by_id_users')),
    sa.ForeignKeyConstraint(['responsible_region_id'], ['regions.id'], name=op.f('fk_rectifications_responsible_region_id_regions')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_rectifications_reviewed_by_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_rectifications_site_id_sites')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_rectifications_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectifications_event_id'), ['event_id'], unique=False)
        batch_op.create_index('ix_rectifications_site_status', ['site_id', 'status', 'deadline_at'], unique=False)
        batch_op.create_index('ix_rectifications_status_deadline', ['status', 'deadline_at'], unique=False)

    op.create_table('rectification_photos',
    sa.Column('rectification_id', sa.Uuid(), nullable=False),
    sa.Column('rel_path', sa.String(length=512), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectification_photos_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_photos'))
    )
    with op.batch_alter_table('rectification_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_photos_rectification_id'), ['rectification_id'], unique=False)

    op.bulk_insert(audit_head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS_HASH}])
    _create_append_only_trigger()


def downgrade() -> None:
    _drop_append_only_trigger()
    with op.batch_alter_table('rectification_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_photos_rectification_id'))

    op.drop_table('rectification_photos')
    with op.batch_alter_table('rectifications', schema=None) as batch_op:
        batch_op.drop_index('ix_rectifications_status_deadline')
        batch_op.drop_index('ix_rectifications_site_status')
        batch_op.drop_index(batch_op.f('ix_rectifications_event_id'))

    op.drop_table('rectifications')
    op.drop_table('event_media')
    with op.batch_alter_table('zones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zones_camera_id'))

    op.drop_table('zones')
    with op.batch_alter_table('rule_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_overrides_camera_id'))

    op.drop_table('rule_overrides')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_status_started')
        batch_op.drop_index('ix_events_queue')
        batch_op.drop_index('ix_events_camera_started')

    op.drop_table('events')
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_site_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_object_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_action'))

    op.drop_table('audit_entries')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_site_id'))
        batch_op.drop_index(batch_op.f('ix_users_region_id'))

    op.drop_table('users')
    with op.batch_alter_table('cameras', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cameras_site_id'))

    op.drop_table('cameras')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_region_id'))

    op.drop_table('sites')
    with op.batch_alter_table('regions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_regions_parent_id'))

    op.drop_table('regions')
    op.drop_table('audit_head')


def _create_append_only_trigger() -> None:
    """Audit entries are never updated in place (the hash chain would catch it anyway)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'audit entries are append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries"
            " FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries"
            " BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
        )


def _drop_append_only_trigger() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update" + (
        " ON audit_entries" if op.get_bind().dialect.name == "postgresql" else ""
    ))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
