"""The four roles and what each face of the app belongs to."""
TECHNICIAN = "technician"
DISPATCHER = "dispatcher"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ROLES = (TECHNICIAN, DISPATCHER, SUPERVISOR, ADMIN)

# Who may act in the office: admin stands in for both office roles.
DISPATCH_ROLES = frozenset({DISPATCHER, ADMIN})
REVIEW_ROLES = frozenset({SUPERVISOR, ADMIN})
OFFICE_ROLES = frozenset({DISPATCHER, SUPERVISOR, ADMIN})

HOME_PATH = {
    TECHNICIAN: "/app/",
    DISPATCHER: "/dispatch/",
    SUPERVISOR: "/review/",
    ADMIN: "/dispatch/",
}
