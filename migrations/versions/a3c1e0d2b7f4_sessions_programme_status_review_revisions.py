"""sessions that end on the server, programme status, the revision each workflow step saw

Revision ID: a3c1e0d2b7f4
Revises: 7fd9e4e4a8c0
Create Date: 2026-11-25 23:40:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3c1e0d2b7f4'
down_revision = '7fd9e4e4a8c0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    users = sa.table('user_account', sa.column('id', sa.Integer),
                     sa.column('session_token', sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).fetchall():
        conn.execute(users.update().where(users.c.id == user_id)
                     .values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64),
                              nullable=False)

    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'status',
            sa.Enum('running', 'closed', name='programme_status', native_enum=False,
                    create_constraint=True, length=20),
            server_default='running', nullable=False))

    with op.batch_alter_table('state_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision_number', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('state_change', schema=None) as batch_op:
        batch_op.drop_column('revision_number')
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_constraint('programme_status', type_='check')
        batch_op.drop_column('status')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('session_token')
