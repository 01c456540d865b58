"""alert outbox, deliveries and webhook subscriptions

Revision ID: 0002_alerts
Revises: 0001_initial
Create Date: 2026-11-25 09:21:55.815387
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_alerts'
down_revision: str | None = '0001_initial'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=True),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('trigger', sa.Enum('event_opened', 'event_confirmed', 'rectification_ordered', 'rectification_overdue', 'camera_offline', 'camera_online', name='alert_trigger', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('severity', sa.Enum('red', 'orange', 'yellow', name='alert_severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('region_path', sa.String(length=400), nullable=False),
    sa.Column('camera_key', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sequenced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_alert_outbox_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_outbox')),
    sa.UniqueConstraint('seq', name=op.f('uq_alert_outbox_seq'))
    )
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_outbox_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_outbox_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_alert_outbox_unsequenced', ['id'], unique=False, postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))

    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('audience', sa.Enum('site', 'regulator', name='webhook_audience', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=True),
    sa.Column('region_id', sa.Uuid(), nullable=True),
    sa.Column('region_path', sa.String(length=400), nullable=True),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('secret_next', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_webhook_subscriptions_region_id_regions')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_webhook_subscriptions_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_subscriptions_site_id'), ['site_id'], unique=False)

    op.create_table('alert_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('alert_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.Enum('webhook', 'mqtt', name='alert_channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('site_id', sa.Uuid(), nullable=False),
    sa.Column('cadence', sa.Enum('immediate', 'hourly', 'daily', 'never', name='alert_cadence', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'dead', name='delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alert_outbox.id'], name=op.f('fk_alert_deliveries_alert_id_alert_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('alert_id', 'channel', 'target', name=op.f('uq_alert_deliveries_alert_id_channel_target'))
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index('ix_alert_deliveries_queue', ['channel', 'status', 'due_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_deliveries_queue')
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_alert_id'))

    op.drop_table('alert_deliveries')
    with op.batch_alter_table('webhook_subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_site_id'))
        batch_op.drop_index(batch_op.f('ix_webhook_subscriptions_region_id'))

    op.drop_table('webhook_subscriptions')
    with op.batch_alter_table('alert_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_outbox_unsequenced', postgresql_where=sa.text('seq IS NULL'), sqlite_where=sa.text('seq IS NULL'))
        batch_op.drop_index(batch_op.f('ix_alert_outbox_site_id'))
        batch_op.drop_index(batch_op.f('ix_alert_outbox_event_id'))

    op.drop_table('alert_outbox')
