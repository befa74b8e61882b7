"""Command-line tools: `flask --app app seed-demo`, `create-user`, `init-db`."""
from __future__ import annotations

from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale

from fieldapp.accounts import service as accounts
from fieldapp.accounts.context import Ctx
from fieldapp.accounts.models import User
from fieldapp.core.errors import DomainError
from fieldapp.core.roles import ROLES
from fieldapp.demo_history import seed_history
from fieldapp.extensions import db
from fieldapp.jobs.checklists import install_standard_templates
from fieldapp.messages import MESSAGES
from fieldapp.sealing.service import verify_all
from fieldapp.seed import DEMO_PASSWORD, seed_demo
from sync.pull import epoch, new_epoch


def _clock():
    return current_app.extensions["fieldapp.clock"]


def _refused(error: DomainError) -> click.ClickException:
    """The refusal in both languages, for the operator at the terminal."""
    text = MESSAGES.get(error.code)
    if text is None:
        return click.ClickException(f"{error.code}: {error.details}")
    with force_locale("en"):
        english = str(text)
    with force_locale("zh_CN"):
        chinese = str(text)
    return click.ClickException(f"{error.code}: {english} / {chinese}")


@contextmanager
def _committed_or_refused():
    """The block's change is committed, or, refused by the rules, rolled back and told to
    the operator in both languages."""
    try:
        yield
    except DomainError as error:
        db.session.rollback()
        raise _refused(error) from None
    db.session.commit()


def _user_named(username: str) -> User:
    user = db.session.query(User).filter_by(username=username).one_or_none()
    if user is None:
        raise _refused(DomainError("user_not_found", {"username": username}))
    return user


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only when the database has no users yet.")
@click.option("--history", is_flag=True,
              help="Also a few past days of work: jobs to review, a sealed job, return "
                   "visits, a parts request and a product out for repair.")
def seed_demo_command(if_empty: bool, history: bool):
    """Load the demo accounts and jobs (not in production)."""
    if current_app.config["FIELDAPP_ENV"] == "production":
        raise click.ClickException("demo data is never loaded in production")
    if if_empty and db.session.query(User.id).first() is not None:
        click.echo("database already has users; nothing seeded")
        return
    seed_demo(db.session, _clock())
    click.echo("demo data loaded: tech1, tech2, dispatcher1, supervisor1, admin "
               "(password fieldapp-demo)")
    if history:
        refs = seed_history(current_app._get_current_object(), DEMO_PASSWORD)
        click.echo("past work loaded: " + ", ".join(f"{k} {v}" for k, v in refs.items()))


@click.command("create-user")
@click.option("--username", prompt=True)
@click.option("--role", type=click.Choice(ROLES), prompt=True)
@click.option("--display-name", default="", help="Name shown to colleagues.")
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.password_option()
def create_user_command(username, role, display_name, phone, email, password):
    """Create an account (the only way to get one in production)."""
    ctx = Ctx(session=db.session, clock=_clock())
    with _committed_or_refused():
        user = accounts.create_user(ctx, username, password, role, display_name or username,
                                    phone=phone, email=email)
    click.echo(f"created {user.role} {user.username} (id {user.id})")


@click.command("set-password")
@click.option("--username", prompt=True)
@click.password_option()
def set_password_command(username, password):
    """Give an account a new password; its web sessions end (sign in again)."""
    user = _user_named(username)
    with _committed_or_refused():
        accounts.set_password(user, password)
    click.echo(f"new password set for {user.username}; their web sessions have ended")


@click.command("deactivate-user")
@click.option("--username", prompt=True)
def deactivate_user_command(username):
    """Deactivate an account: no sign-in, every token and web session stops working."""
    user = _user_named(username)
    accounts.set_active(user, False)
    db.session.commit()
    click.echo(f"{user.username} deactivated")


@click.command("init-db")
def init_db_command():
    """Install the fixed rows every database needs (checklist templates, sync epoch).
    `flask db upgrade` runs this too."""
    install_fixed_rows()
    click.echo("checklist templates and sync epoch in place")


def install_fixed_rows() -> None:
    epoch(db.session)
    install_standard_templates(db.session, _clock())
    db.session.commit()


@click.command("verify")
@with_appcontext
def verify_command():
    """Recompute every seal in chain order; name every approved job whose record no longer
    matches (exit code 1 on any mismatch)."""
    count, problems = verify_all(db.session)
    db.session.rollback()
    for problem in problems:
        click.echo(f"MISMATCH {problem}", err=True)
    if problems:
        jobs = len({p.job_id for p in problems})
        raise click.ClickException(f"{len(problems)} problem(s) in {jobs} of {count} sealed "
                                   f"job(s)")
    click.echo(f"OK: {count} seal(s) verified, chain intact")


@click.command("restored")
@with_appcontext
def restored_command():
    """Run once after restoring the database from a backup, before the server takes
    traffic: starts a new sync epoch so every phone pulls everything again (its pending
    changes are renumbered and re-sent on its own; see docs/operations.md)."""
    old = epoch(db.session)
    new = new_epoch(db.session)
    db.session.commit()
    click.echo(f"new sync epoch {new} (was {old}): every phone will pull everything again")


def init_app(app) -> None:
    for command in (seed_demo_command, create_user_command, set_password_command,
                    deactivate_user_command, init_db_command, verify_command, restored_command):
        app.cli.add_command(command)
