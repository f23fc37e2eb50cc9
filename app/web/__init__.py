"""Server-rendered pages (placeholder until the web package lands)."""


def register(app) -> None:
    from app import login_manager
    from app.http import get_db
    from app.identity.service import principal_by_id

    @login_manager.user_loader
    def load_user(user_id: str):
        return principal_by_id(get_db(), user_id=int(user_id)) if user_id.isdigit() else None
