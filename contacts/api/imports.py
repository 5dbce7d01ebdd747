"""POST /api/contact_imports (multipart `file`), GET /api/contact_imports and /api/contact_imports/:id."""

from rest_framework import serializers

from scfm.api.fields import WriteSerializer
from scfm.api.viewsets import ResourceViewSet
from scfm.query.filters import CsvFilter, TimestampedFilterSet

from .. import imports, selectors
from ..models import ContactImport


class ContactImportFilter(TimestampedFilterSet):
    status = CsvFilter(field_name="status")

    class Meta:
        model = ContactImport
        fields = []


class ContactImportReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactImport
        fields = [
            "id",
            "status",
            "filename",
            "total_rows",
            "processed_rows",
            "created_count",
            "updated_count",
            "error_count",
            "error_rows",
            "error_message",
            "started_at",
            "finished_at",
            "created_at",
            "updated_at",
            "account_id",
        ]


class ContactImportWriteSerializer(WriteSerializer):
    file = serializers.FileField(
        allow_empty_file=False,
        error_messages={
            "required": "can't be blank",
            "null": "can't be blank",
            "invalid": "must be an uploaded file (multipart/form-data)",
            "empty": "is empty",
        },
    )


class ContactImportViewSet(ResourceViewSet):
    """Contact imports: create uploads a CSV file and queues its import; list and show report progress."""

    permission_resource = "contacts"
    location_prefix = "contact_imports"
    schema_description = (
        "A CSV import of contacts: create uploads the file (multipart/form-data, field `file`; a header row with "
        "`msisdn` and any metadata columns) and answers 201 at once; the rows are imported in the background, "
        "creating or updating contacts by msisdn. `status` (queued, running, finished, failed) and the counts "
        "report progress; `error_rows` names the rows that were refused. Needs `contacts_read` / `contacts_write`."
    )
    read_serializer_class = ContactImportReadSerializer
    write_serializer_class = ContactImportWriteSerializer
    filterset_class = ContactImportFilter

    def base_queryset(self):
        return selectors.contact_import_list(account=self.account)

    def perform_create(self, data):
        return imports.contact_import_create(account=self.account, file=data["file"])
