"""One permission class: each action needs `<resource>_read` or `<resource>_write`; some need a super admin."""

from rest_framework.permissions import SAFE_METHODS, BasePermission


class ResourcePermission(BasePermission):
    message = "You do not have permission to perform this action."

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if principal is None or not getattr(principal, "is_authenticated", False):
            return False
        if getattr(view, "super_admin_only", False) and not principal.is_super_admin:
            self.message = "This action needs a super admin account."
            return False
        needed = required_permission(request, view)
        if needed and needed not in principal.permissions:
            self.message = f"Missing permission: {needed}"
            return False
        return True


def required_permission(request, view) -> str | None:
    explicit = getattr(view, "required_permission", None)
    if callable(explicit):
        return explicit(request)
    resource = getattr(view, "permission_resource", None)
    if resource is None:
        return None
    return f"{resource}_{'read' if request.method in SAFE_METHODS else 'write'}"
